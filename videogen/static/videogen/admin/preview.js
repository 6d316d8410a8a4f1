/* videogen admin: previews of images on other hosts, only when staff ask.
 *
 * An image URL on another host is rendered as a link and a "Show preview" button; pressing it
 * loads the image (without a referrer). In the form the button previews what the URL input or
 * the URL list holds now, and appears once it holds an http(s) URL. Nothing here runs on its
 * own: no request leaves for a third-party host before the click.
 */
(function () {
    "use strict";

    function isURL(value) { return /^https?:\/\/\S+$/.test(value); }

    function container(element) {
        return element.closest(".vg-image-input, .vg-url-list, .vg-images") || element.parentNode;
    }

    function urlsOf(box) {
        var input = box.querySelector("input[data-vg-image-url], textarea");
        if (input) {
            return input.value.split(/\s+/).filter(isURL);
        }
        return Array.prototype.map.call(box.querySelectorAll("[data-vg-preview-src]"),
            function (element) { return element.getAttribute("data-vg-preview-src"); });
    }

    function show(button) {
        var box = container(button);
        var previews = box.querySelector("[data-vg-previews]");
        if (!previews) { return; }
        var urls = urlsOf(box);
        previews.textContent = "";
        urls.forEach(function (url) {
            var figure = document.createElement("figure"), img = document.createElement("img");
            figure.className = "vg-thumb";
            img.alt = "";
            img.referrerPolicy = "no-referrer";
            img.src = url;
            figure.appendChild(img);
            previews.appendChild(figure);
        });
    }

    document.addEventListener("click", function (event) {
        var button = event.target.closest("[data-vg-show-previews]");
        if (button) { show(button); }
    });

    document.addEventListener("input", function (event) {
        var input = event.target;
        if (!input.matches("input[data-vg-image-url], .vg-url-list textarea")) { return; }
        var box = container(input), button = box.querySelector("[data-vg-show-previews]");
        if (button) { button.hidden = !input.value.split(/\s+/).some(isURL); }
    });
}());
