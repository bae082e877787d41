/* global document, window */
// Room page helpers (no inline scripts, CSP 'self'): waiting-for-the-teacher polling and confirmations.
(function () {
  'use strict';
  var waiting = document.querySelector('[data-poll]');
  if (waiting) {
    var url = waiting.getAttribute('data-poll');
    var timer = setInterval(function () {
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (body && body.state === 'running') {
            clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () { /* keep waiting */ });
    }, 4000);
  }
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
})();
