/* iiniit_auth's developer portal: copy buttons and one submission per form.
   Every page works without it: the copy buttons stay hidden, the text stays selectable. */
"use strict";
(function () {
    function selectAndCopy(element) {
        // Outside a secure context (plain http on another host) there is no clipboard API.
        var range = document.createRange();
        range.selectNodeContents(element);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        try { document.execCommand("copy"); } catch (error) { /* the text stays selected */ }
    }

    function copyText(button) {
        var target = document.getElementById(button.getAttribute("data-iiniit-copy"));
        if (!target) { return; }
        var label = button.textContent;
        function done() {
            button.textContent = button.getAttribute("data-copied") || label;
            window.setTimeout(function () { button.textContent = label; }, 2000);
        }
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(target.textContent).then(done, function () {
                selectAndCopy(target);
                done();
            });
        } else {
            selectAndCopy(target);
            done();
        }
    }

    function guardSubmit(form) {
        // A double click must not send the form twice (the server would refuse the second).
        form.addEventListener("submit", function (event) {
            if (form.getAttribute("data-submitted")) {
                event.preventDefault();
                return;
            }
            form.setAttribute("data-submitted", "1");
        });
    }

    function init() {
        document.querySelectorAll("[data-iiniit-copy]").forEach(function (button) {
            button.hidden = false;
            button.addEventListener("click", function () { copyText(button); });
        });
        document.querySelectorAll("form[data-iiniit-submit-once]").forEach(guardSubmit);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", init);
    } else {
        init();
    }
})();
