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
