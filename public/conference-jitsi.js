/* global document */
// Embeds Jitsi Meet through its IFrame API from the tenant's domain (CSP allows that origin on this page only).
// The moderator switches the lobby on and, for sensitive rooms, sets the password (VC-04).
(function () {
  'use strict';
  var el = document.getElementById('jitsi');
  if (!el) return;
  var d = el.dataset;
  var domain = d.domain;
  var moderator = d.moderator === 'true';
  var password = d.password || '';
  var cameraOff = d.cameraOff === 'true';
  var script = document.createElement('script');
  script.src = 'https://' + domain + '/external_api.js';
  script.onload = function () {
    /* global JitsiMeetExternalAPI */
    var api = new JitsiMeetExternalAPI(domain, {
      roomName: d.room,
      jwt: d.jwt,
      parentNode: el,
      lang: d.lang || 'de',
      width: '100%',
      height: 600,
      configOverwrite: {
        startWithAudioMuted: true, // VC-16
        startWithVideoMuted: cameraOff, // VC-06
        prejoinConfig: { enabled: !cameraOff }, // VC-06: skip the video preview
        disablePrivateChat: d.privateChat === 'true' ? false : 'all', // VC-14
        fileRecordingsEnabled: false,
        liveStreamingEnabled: false,
        transcription: { enabled: false },
        disableDeepLinking: true,
      },
    });
    var secured = false;
    api.addListener('videoConferenceJoined', function () {
      if (!moderator || secured) return;
      secured = true;
      if (d.lobby === 'true') api.executeCommand('toggleLobby', true); // VC-04
      if (password) api.executeCommand('password', password); // VC-04 sensitive
    });
    api.addListener('passwordRequired', function () {
      if (password) api.executeCommand('password', password);
    });
    var endForm = document.querySelector('form[data-jitsi-end]');
    if (endForm) {
      endForm.addEventListener('submit', function () {
        try { api.executeCommand('endConference'); } catch { /* older Jitsi: the room dies with its name */ }
      });
    }
  };
  script.onerror = function () {
    el.textContent = (d.lang === 'en' ? 'The conference system cannot be reached.' : 'Das Konferenzsystem ist nicht erreichbar.');
  };
  document.head.appendChild(script);
})();
