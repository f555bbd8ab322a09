// The passkey buttons (views/partials/passkey.pug). Each form names its purpose and where its
// challenge comes from; this asks for the challenge, hands it to the browser's WebAuthn (through
// @simplewebauthn/browser, served from /assets/vendor), puts the answer in the form and submits
// it. The server checks everything; nothing here is trusted.
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
} from './vendor/simplewebauthn/index.js';

/** A fresh challenge for this form's ceremony, made for this session by the server. */
async function optionsFor(form) {
  const response = await fetch(form.dataset.options, {
    method: 'POST',
    headers: { Accept: 'application/json' },
    body: new URLSearchParams({ _csrf: form.elements._csrf.value }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 403 && body.confirm) {
    // Sudo mode: the password first, then back to this page.
    window.location.assign(`${body.confirm}?next=${encodeURIComponent(window.location.pathname)}`);
    return undefined;
  }
  if (!response.ok) throw new Error(body.error || 'The server did not answer.');
  return body;
}

function say(form, message) {
  form.querySelector('.passkey-status').textContent = message;
}

async function run(form, useBrowserAutofill = false) {
  const optionsJSON = await optionsFor(form);
  if (!optionsJSON) return;
  const credential =
    form.dataset.passkey === 'register'
      ? await startRegistration({ optionsJSON })
      : await startAuthentication({ optionsJSON, useBrowserAutofill });
  form.elements.credential.value = JSON.stringify(credential);
  form.submit();
}

const failed = (form) => (error) => {
  // Cancelled by its owner, or replaced by another ceremony: nothing to say.
  if (error && (error.name === 'AbortError' || error.code === 'ERROR_CEREMONY_ABORTED')) return;
  if (error && error.name === 'NotAllowedError') {
    say(form, 'No passkey was used. Try again, or use another way.');
    return;
  }
  say(form, `That did not work: ${error && error.message ? error.message : 'unknown error'}`);
};

if (browserSupportsWebAuthn()) {
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    form.hidden = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      say(form, '');
      run(form).catch(failed(form));
    });
    // On the login page, the username field's autofill offers passkeys too.
    if (form.dataset.passkey === 'sign-in') {
      browserSupportsWebAuthnAutofill().then((supported) => {
        if (supported) run(form, true).catch(failed(form));
      });
    }
  }
}
