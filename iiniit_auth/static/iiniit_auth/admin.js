/* iiniit_auth in Django admin: copy buttons, one submission per form, the app index overview,
   and keys pasted into the search box cut down to their public id before they reach a URL.
   No dependencies; every behaviour is opt-in through a data- attribute or an admin page. */
"use strict";
(function () {
    function copyText(button) {
        var target = document.getElementById(button.getAttribute("data-iiniit-copy"));
        if (!target) { return; }
        var text = target.textContent;
        var label = button.textContent;
        function done() {
            button.textContent = button.getAttribute("data-copied") || label;
            window.setTimeout(function () { button.textContent = label; }, 2000);
        }
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(text).then(done, function () { selectAndCopy(target); done(); });
        } else {
            selectAndCopy(target);
            done();
        }
    }

    function selectAndCopy(element) {
        // Outside a secure context (plain http on another host) there is no clipboard API.
        var range = document.createRange();
        range.selectNodeContents(element);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        try { document.execCommand("copy"); } catch (error) { /* the text stays selected */ }
    }

    function guardSubmit(form) {
        // A double click must not send the form twice: the second would issue a second key.
        form.addEventListener("submit", function (event) {
            if (form.getAttribute("data-submitted")) {
                event.preventDefault();
                return;
            }
            form.setAttribute("data-submitted", "1");
        });
    }

    function loadOverview(slot) {
        var url = slot.getAttribute("data-iiniit-overview");
        fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
            .then(function (response) { return response.ok ? response.text() : null; })
            .then(function (html) {
                if (!html) { return; }
                var page = new DOMParser().parseFromString(html, "text/html");
                var overview = page.getElementById("iiniit-auth-overview");
                if (overview) { slot.replaceChildren(document.importNode(overview, true)); }
            })
            .catch(function () { /* the link to the overview page stays */ });
    }

    function guardSearch(form) {
        // Paste a whole key to find it: only its public id goes into the URL (and the logs).
        var input = form.querySelector("input[name=q]");
        if (!input) { return; }
        form.addEventListener("submit", function () {
            input.value = input.value.replace(
                /(^|[\s"'])([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{10})[0-9A-Za-z]{34}(?![0-9A-Za-z])/g,
                "$1$2_$3"
            );
        });
    }

    function toggleExpiryDate(select) {
        // The date only matters with "On the date below"; without this script it stays shown.
        var row = document.querySelector(".form-row.field-expires_on");
        if (!row) { return; }
        function update() { row.style.display = select.value === "date" ? "" : "none"; }
        select.addEventListener("change", update);
        update();
    }

    function init() {
        document.querySelectorAll("[data-iiniit-copy]").forEach(function (button) {
            button.addEventListener("click", function () { copyText(button); });
        });
        document.querySelectorAll("form[data-iiniit-submit-once]").forEach(guardSubmit);
        document.querySelectorAll("[data-iiniit-overview]").forEach(loadOverview);
        document.querySelectorAll("#changelist-search").forEach(guardSearch);
        document.querySelectorAll("select#id_expires_in").forEach(toggleExpiryDate);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", init);
    } else {
        init();
    }
})();
