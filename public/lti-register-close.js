/* global document, window */
// LTI Dynamic Registration: tell the platform (Moodle) that the registration window may close.
document.addEventListener('DOMContentLoaded', function () {
  if (window.opener) window.opener.postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  if (window.parent && window.parent !== window) window.parent.postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
});
