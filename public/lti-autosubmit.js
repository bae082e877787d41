/* global document */
// Sends the deep-linking answer back to the learning platform without a click (CSP: no inline scripts).
document.addEventListener('DOMContentLoaded', function () {
  var form = document.querySelector('form[data-autosubmit="true"]');
  if (form) form.submit();
});
