/* videogen admin: keep job statuses fresh while jobs are in flight.
 *
 * The change page polls <admin>/videogen/videojob/<id>/progress/ and updates the badge and
 * progress bar in place; when the job changes and stops moving (finished, failed, archived)
 * it reloads once, so the player, the error and the history appear. The changelist polls
 * <admin>/videogen/videojob/progress/?id=…&id=… for its in-flight rows only, and updates them
 * in place (status, progress, cost, poster). Polling slows down after a minute and pauses while
 * the tab is hidden. An edit form whose job has been sent turns into the read-only page (or,
 * with unsaved changes, says so).
 */
(function () {
    "use strict";

    var FAST = 2000, SLOW = 5000, SLOW_AFTER = 60000;
    var started = Date.now();

    function delay() {
        return Date.now() - started > SLOW_AFTER ? SLOW : FAST;
    }

    function fetchJSON(url) {
        return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
            .then(function (response) {
                if (!response.ok) { throw new Error("HTTP " + response.status); }
                return response.json();
            });
    }

    function updateBadge(badge, job) {
        if (!badge) { return; }
        badge.textContent = job.status_label;
        badge.className = badge.className.replace(/vg-status-\S+/, "vg-status-" + job.status);
        if (job.moving) { badge.setAttribute("data-vg-moving", ""); }
        else { badge.removeAttribute("data-vg-moving"); }
    }

    function updateProgress(box, job) {
        if (!box) { return; }
        var bar = box.querySelector(".vg-bar"), text = box.querySelector("small");
        if (bar) {
            bar.hidden = job.percent === null;
            bar.firstElementChild.style.width = (job.percent || 0) + "%";
        }
        if (text) { text.textContent = job.text; }
    }

    function updateCost(cell, job) {
        if (cell && job.cost) { cell.textContent = job.cost; }
    }

    function later(step) {
        window.setTimeout(function () {
            if (document.hidden) {
                document.addEventListener("visibilitychange", function resume() {
                    document.removeEventListener("visibilitychange", resume);
                    step();
                });
            } else {
                step();
            }
        }, delay());
    }

    /* An edit form whose job was sent meanwhile (from another tab, by a colleague, by the
       "Submit" action): untouched, it becomes the read-only job page; with changes typed in,
       they stay on screen and a notice says they cannot be saved here. */
    function formGoneStale(notice, dirty) {
        if (!dirty) {
            // A GET of the same page, never a re-POST.
            window.location.replace(window.location.pathname + window.location.search);
            return;
        }
        notice.hidden = false;
    }

    /* The change page of one job. A draft is watched too: it may be sent from elsewhere. */
    function watchJob(section) {
        var url = section.getAttribute("data-vg-status-url");
        var status = section.getAttribute("data-vg-status");
        var archive = section.getAttribute("data-vg-archive");
        var notice = document.querySelector("[data-vg-sent-notice]");
        var form = section.closest("form");
        // A form sent back with errors holds typing that was never saved.
        var dirty = Boolean(form && form.querySelector(".errornote, .errorlist"));
        if (notice && form) {
            form.addEventListener("input", function () { dirty = true; });
            form.addEventListener("change", function () { dirty = true; });
        }
        function step() {
            fetchJSON(url).then(function (job) {
                if (notice && job.editable === false) {
                    updateBadge(section.querySelector("[data-vg-badge]"), job);
                    updateProgress(section.querySelector("[data-vg-progress]"), job);
                    formGoneStale(notice, dirty);
                    return;
                }
                var changed = job.status !== status || job.archive_status !== archive;
                if (changed && !job.moving) {
                    window.location.reload();  // show the player, the error, the history
                    return;
                }
                if (archiving(job.archive_status)) { releasePlayer(); }
                updateBadge(section.querySelector("[data-vg-badge]"), job);
                updateProgress(section.querySelector("[data-vg-progress]"), job);
                updateCost(section.querySelector("[data-vg-cost]"), job);
                var label = section.querySelector("[data-vg-archive-label]");
                if (label && job.archive_label) { label.textContent = job.archive_label; }
                status = job.status;
                archive = job.archive_status;
                section.setAttribute("data-vg-status", status);
                later(step);
            }).catch(function () { later(step); });
        }
        later(step);
    }

    /* The changelist's in-flight rows. */
    function watchList(holder) {
        var url = holder.getAttribute("data-vg-progress-many");
        function moving() {
            return Array.prototype.map.call(
                document.querySelectorAll("[data-vg-badge][data-vg-moving]"),
                function (badge) { return badge.getAttribute("data-vg-badge"); });
        }
        function step() {
            var ids = moving();
            if (!ids.length) { return; }
            var query = ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
            fetchJSON(url + "?" + query).then(function (data) {
                data.jobs.forEach(function (job) {
                    updateBadge(document.querySelector('[data-vg-badge="' + job.id + '"]'), job);
                    updateProgress(document.querySelector('[data-vg-progress="' + job.id + '"]'), job);
                    updateCost(document.querySelector('[data-vg-cost="' + job.id + '"]'), job);
                    showPoster(job);
                });
                later(step);
            }).catch(function () { later(step); });
        }
        later(step);
    }

    function showPoster(job) {
        var badge = document.querySelector('[data-vg-badge="' + job.id + '"]');
        var row = badge && badge.closest("tr");
        var placeholder = row && row.querySelector(".vg-poster--none");
        if (!job.poster || !placeholder) { return; }
        var img = document.createElement("img");
        img.className = "vg-poster";
        img.alt = "";
        img.src = job.poster;
        placeholder.replaceWith(img);
    }

    /* While a job is archived again its files are replaced, and the old ones deleted: a player
       still pointing at them would ask for them (404s) until the page reloads. So the player
       lets go of them as soon as an archive is asked for or under way. */
    function releasePlayer() {
        document.querySelectorAll("video.vg-video").forEach(function (video) {
            if (!video.querySelector("source") && !video.hasAttribute("src")) { return; }
            video.pause();
            video.querySelectorAll("source").forEach(function (source) { source.remove(); });
            video.removeAttribute("src");
            video.removeAttribute("poster");
            video.load();
            video.closest(".vg-player").classList.add("vg-player--replacing");
        });
    }

    function archiving(status) { return status === "pending" || status === "archiving"; }

    function start() {
        document.addEventListener("submit", function (event) {
            var button = event.target.querySelector("[data-vg-op='archive']");
            if (button) { releasePlayer(); }
        });
        var section = document.querySelector("[data-vg-status-url][data-vg-watch]");
        if (section && archiving(section.getAttribute("data-vg-archive"))) { releasePlayer(); }
        if (section) { watchJob(section); }
        var holder = document.querySelector("[data-vg-progress-many]");
        if (holder) { watchList(holder); }
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
