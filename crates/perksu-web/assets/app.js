// Live refresh for server-rendered fragments. Pages work without this script: it only swaps
// in a fresh copy of any element marked data-refresh-url every data-refresh-seconds.
(function () {
  "use strict";

  function refresh(element) {
    var url = element.getAttribute("data-refresh-url");
    if (!url) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        // A redirect means the session ended; leave the card as it is until the next load.
        if (!response.ok || response.redirected || type.indexOf("text/html") !== 0) {
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) {
          schedule(element);
          return;
        }
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (fresh && fresh.getAttribute("data-refresh-url") === url) {
          element.replaceWith(fresh);
          schedule(fresh);
        } else {
          schedule(element);
        }
      })
      .catch(function () {
        // Offline or the server restarting: try again at the next tick.
        schedule(element);
      });
  }

  function schedule(element) {
    var seconds = parseInt(element.getAttribute("data-refresh-seconds"), 10) || 30;
    window.setTimeout(function () {
      if (document.body.contains(element)) {
        refresh(element);
      }
    }, seconds * 1000);
  }

  document.querySelectorAll("[data-refresh-url]").forEach(schedule);
})();

// The recognise form lists every type's fields so it works without this script; with it, only
// the chosen type's fields show (data-show-for / data-hide-for name a recognition type).
(function () {
  "use strict";

  document.querySelectorAll("form").forEach(function (form) {
    var radios = form.querySelectorAll('input[name="recognition_type"]');
    if (radios.length === 0) {
      return;
    }
    function chosen() {
      var checked = form.querySelector('input[name="recognition_type"]:checked');
      return checked ? checked.value : "standard";
    }
    function update() {
      var type = chosen();
      form.querySelectorAll("[data-show-for]").forEach(function (element) {
        element.hidden = element.getAttribute("data-show-for") !== type;
      });
      form.querySelectorAll("[data-hide-for]").forEach(function (element) {
        element.hidden = element.getAttribute("data-hide-for") === type;
      });
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  });
})();

// The CSV import form posts and gets its result page without this script; with it, the file
// uploads in the background with its progress shown in the form's <progress>, and the result
// section of the answer replaces the page's own (data-upload-progress and data-upload-result
// name the two elements).
(function () {
  "use strict";

  document.querySelectorAll("form[data-upload-result]").forEach(function (form) {
    var progress = document.getElementById(form.getAttribute("data-upload-progress"));
    var resultId = form.getAttribute("data-upload-result");
    var buttons = form.querySelectorAll("button[type=submit]");

    function busy(on) {
      buttons.forEach(function (button) {
        button.disabled = on;
      });
    }

    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      if (!window.XMLHttpRequest || !window.FormData || !file || file.files.length === 0) {
        return;
      }
      event.preventDefault();
      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) {
        data.append(submitter.name, submitter.value);
      }
      var request = new XMLHttpRequest();
      // Not form.action: the buttons are named "action", which shadows the property.
      request.open("POST", form.getAttribute("action"));
      request.responseType = "document";
      if (progress) {
        progress.hidden = false;
        progress.removeAttribute("value");
      }
      request.upload.onprogress = function (uploaded) {
        if (progress && uploaded.lengthComputable) {
          progress.max = uploaded.total;
          progress.value = uploaded.loaded;
        }
      };
      request.onload = function () {
        busy(false);
        var answer = request.response;
        var fresh = answer && answer.getElementById(resultId);
        var current = document.getElementById(resultId);
        if (fresh && current) {
          current.replaceWith(document.importNode(fresh, true));
          if (progress) {
            progress.value = progress.max;
          }
        } else {
          // Not the import page (the session ended, an error page): show it as it is.
          form.submit();
        }
      };
      request.onerror = function () {
        busy(false);
        if (progress) {
          progress.hidden = true;
        }
        form.submit();
      };
      busy(true);
      request.send(data);
    });
  });
})();

// The reward form's price preview, live: when the cost, denominations or markup change, the
// form is sent with its Preview button's value and the server's preview replaces this one, so
// the price is computed in one place. Without the script the Preview button does the same.
(function () {
  "use strict";

  document.querySelectorAll("form[data-price-preview]").forEach(function (form) {
    var target = form.querySelector("#price-preview");
    if (!target) {
      return;
    }
    var timer = null;
    function update() {
      var body = new URLSearchParams(new FormData(form));
      body.set("action", "preview");
      // Not form.action: the buttons are named "action" and would shadow it.
      fetch(form.getAttribute("action"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body
      })
        .then(function (response) {
          // A refused value answers with a 4xx page; keep the last good preview.
          return response.ok && !response.redirected ? response.text() : null;
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#price-preview");
          if (fresh) {
            target.innerHTML = fresh.innerHTML;
          }
        })
        .catch(function () {
          // Offline: the Preview button still works once the server is back.
        });
    }
    form.querySelectorAll("[data-preview-input]").forEach(function (input) {
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(update, 400);
      });
    });
  });
})();
