/* videogen admin: the job form follows the chosen model.
 *
 * The catalog arrives as JSON (#videogen-catalog). When the model changes, this shows its
 * capability line, offers only its sizes, durations, fps and Wan 2.7 resolution/ratio, hides
 * keyframe and media inputs it does not take, counts prompt characters against its limit, warns
 * about a guidance scale above 12, and previews picked images (refusing non-images and files
 * over 10 MB before upload). The server validates everything again; this only helps.
 */
(function () {
    "use strict";

    /* The page's strings, translated on the server (#videogen-strings): Django's JavaScript
     * catalog of the admin does not carry this app's strings. */
    var strings = {};
    function t(key) { return strings[key] || key; }
    function interpolate(fmt, obj) {
        return fmt.replace(/%\((\w+)\)s/g, function (_, key) { return obj[key]; });
    }

    function field(name) { return document.getElementById("id_" + name); }

    /* The element to hide for a field: on a shared line, the box holding its errors, input
     * and help text; else its row. */
    function holder(name) {
        var box = document.querySelector(".fieldBox.field-" + name);
        return box ? box.parentNode : document.querySelector(".form-row.field-" + name);
    }

    /* Show or hide a field. A hidden field is disabled too, so it is not sent: a value typed
     * for another model must not reach this one (the server would refuse it). A field with an
     * error stays visible, so the error can be read. */
    function show(name, visible) {
        var element = holder(name);
        if (!element) { return; }
        if (element.querySelector(".errorlist")) { visible = true; }
        element.hidden = !visible;
        element.querySelectorAll("input, select, textarea").forEach(function (control) {
            control.disabled = !visible;
        });
        var line = element.parentNode;
        if (line && line.classList.contains("form-multiline")) {
            // A shared line disappears when all of its fields do.
            line.closest(".form-row").hidden = !Array.prototype.some.call(
                line.children, function (box) { return !box.hidden; });
        }
    }

    /* Offer only `allowed` option values (all when the list is empty); keep "" (default). */
    function narrow(select, allowed) {
        if (!select) { return; }
        var keep = allowed.map(String);
        Array.prototype.forEach.call(select.options, function (option) {
            var ok = option.value === "" || !keep.length || keep.indexOf(option.value) !== -1;
            option.hidden = !ok;
            option.disabled = !ok;
        });
        if (select.selectedOptions.length && select.selectedOptions[0].disabled) {
            select.value = "";
        }
    }

    function range(low, high) {
        var values = [];
        for (var n = low; n <= high; n++) { values.push(n); }
        return values;
    }

    function note(input, className) {
        var existing = document.querySelector("." + className);
        if (existing) { return existing; }
        var element = document.createElement("p");
        element.className = "vg-field-note " + className;
        element.setAttribute("aria-live", "polite");
        // Under the field, with its help text (Django renders it as #id_<name>_helptext).
        var help = document.getElementById(input.id + "_helptext");
        if (help) { help.appendChild(element); }
        else { input.insertAdjacentElement("afterend", element); }
        return element;
    }

    function applyModel(catalog) {
        var select = field("model");
        var spec = catalog[select.value];
        var summary = document.querySelector("[data-vg-model-summary]");
        if (summary) { summary.textContent = spec ? spec.summary : ""; }
        if (!spec) {
            ["size", "resolution", "seconds", "fps", "ratio"].forEach(function (n) { narrow(field(n), []); });
            return;
        }
        var usesResolution = spec.resolutions.length > 0;
        show("size", !usesResolution);
        show("resolution", usesResolution);
        show("ratio", usesResolution);
        // A hidden input must not send a value the model would ignore.
        if (usesResolution) { field("size").value = ""; }
        else { field("resolution").value = ""; field("ratio").value = ""; }
        narrow(field("size"), spec.sizes);
        narrow(field("resolution"), spec.resolutions);
        narrow(field("ratio"), spec.ratios);
        narrow(field("seconds"), spec.durations.length ? spec.durations
            : range(spec.seconds_range[0], spec.seconds_range[1]));
        narrow(field("fps"), spec.fps);
        // Inputs the provider's docs show for the model but its table does not: shown, and
        // the server sends them with a warning.
        var takes = spec.media.concat(spec.warned || []);
        var frames = takes.indexOf("frame_images") !== -1;
        show("first_frame_file", frames && spec.keyframes.indexOf("first") !== -1);
        show("first_frame_url", frames && spec.keyframes.indexOf("first") !== -1);
        show("last_frame_file", frames && spec.keyframes.indexOf("last") !== -1);
        show("last_frame_url", frames && spec.keyframes.indexOf("last") !== -1);
        var references = takes.indexOf("reference_images") !== -1;
        show("reference_files", references);
        show("reference_urls", references);
        show("frame_video_urls", takes.indexOf("frame_videos") !== -1);
        show("reference_video_urls", takes.indexOf("reference_videos") !== -1);
        show("source_video_url", takes.indexOf("source_video") !== -1);
        show("audio_urls", takes.indexOf("audio_inputs") !== -1);
        // A section with nothing the model takes (keyframes on a text-to-video model) goes too.
        document.querySelectorAll("fieldset.module").forEach(function (fieldset) {
            var rows = fieldset.querySelectorAll(".form-row");
            if (!rows.length) { return; }
            fieldset.hidden = !Array.prototype.some.call(rows, function (row) { return !row.hidden; });
        });
        countPrompt(catalog);
    }

    function countPrompt(catalog) {
        var prompt = field("prompt");
        var spec = catalog[field("model").value];
        if (!prompt) { return; }
        var element = note(prompt, "vg-prompt-count");
        if (!spec) { element.textContent = ""; return; }
        var length = prompt.value.trim().length, limits = spec.prompt_range;
        var tooLong = length > limits[1], tooShort = length > 0 && length < limits[0];
        element.textContent = interpolate(t("count"), {n: length, max: limits[1]});
        element.classList.toggle("vg-ok", !tooLong && !tooShort);
    }

    function checkGuidance() {
        var input = field("guidance_scale");
        if (!input) { return; }
        var element = note(input, "vg-guidance-note");
        var value = parseFloat(input.value);
        element.textContent = value > 12 ? t("guidance") : "";
    }

    /* Thumbnails of picked files, and the checks the server will make anyway. */
    function previewFiles(input) {
        var box = input.parentNode.querySelector("[data-vg-previews]");
        var message = input.parentNode.querySelector("[data-vg-file-note]");
        var limit = parseInt(input.getAttribute("data-vg-max-bytes"), 10);
        var problems = [];
        if (box) { box.textContent = ""; }
        Array.prototype.forEach.call(input.files, function (file) {
            if (!/^image\/(png|jpeg|webp)$/.test(file.type)) {
                problems.push(interpolate(t("not_image"), {name: file.name}));
                return;
            }
            if (file.size > limit) {
                problems.push(interpolate(t("too_large"), {name: file.name}));
                return;
            }
            if (!box) { return; }
            var figure = document.createElement("figure"), img = document.createElement("img");
            figure.className = "vg-thumb";
            img.alt = "";
            img.src = URL.createObjectURL(file);
            figure.appendChild(img);
            box.appendChild(figure);
        });
        if (message) {
            message.textContent = problems.join(" ");
            message.hidden = !problems.length;
        }
    }

    function start() {
        var data = document.getElementById("videogen-catalog");
        var select = field("model");
        if (!data || !select) { return; }
        var catalog = JSON.parse(data.textContent);
        var texts = document.getElementById("videogen-strings");
        if (texts) { strings = JSON.parse(texts.textContent); }
        select.addEventListener("change", function () { applyModel(catalog); });
        var prompt = field("prompt");
        if (prompt) { prompt.addEventListener("input", function () { countPrompt(catalog); }); }
        var guidance = field("guidance_scale");
        if (guidance) { guidance.addEventListener("input", checkGuidance); }
        document.querySelectorAll("input[data-vg-image]").forEach(function (input) {
            input.addEventListener("change", function () { previewFiles(input); });
        });
        applyModel(catalog);
        checkGuidance();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
