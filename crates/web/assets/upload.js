// Progress for large uploads. Without this script the form posts as usual; with it the
// same POST goes through XMLHttpRequest so the page can show how much has been sent.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    var bar = form.querySelector("progress");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !bar) {
        return;
      }
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
        }
      });
      request.addEventListener("load", function () {
        // The server answers a stored document with a redirect to the case page, which the
        // request followed; anything else is a page to show as it is.
        if (request.status === 200 && request.responseURL.indexOf(form.action) !== 0) {
          window.location.replace(request.responseURL);
        } else {
          document.open();
          document.write(request.responseText);
          document.close();
        }
      });
      request.addEventListener("error", function () {
        form.submit();
      });
      bar.hidden = false;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      request.send(new FormData(form));
    });
  });
});
