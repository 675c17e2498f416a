/* The SMS step page of the drop-in sign-in (intelliauth_sms.urls): send the code at once,
 * check it through the API with the JavaScript client, then POST the finish form. */
(function () {
  'use strict';

  var HINT_AFTER_MS = 30 * 1000; // the guide: no SMS within 30 seconds
  var MAX_TIMEOUT_MS = 2147483647;

  var root = document.getElementById('sms-step');
  if (!root) {
    return;
  }
  var flowId = root.getAttribute('data-flow-id');
  var finishForm = document.getElementById('finish-form');
  var client = IntelliAuthSms.create({
    baseUrl: root.getAttribute('data-api-base-url'),
    csrfToken: finishForm.querySelector('[name=csrfmiddlewaretoken]').value,
  });

  var statusEl = document.getElementById('sms-status');
  var codeForm = document.getElementById('code-form');
  var codeInput = document.getElementById('code');
  var verifyButton = document.getElementById('verify');
  var resendButton = document.getElementById('resend');
  var errorBox = document.getElementById('sms-error');
  var errorMessage = document.getElementById('sms-error-message');
  var errorDetail = document.getElementById('sms-error-detail');
  var hint = document.getElementById('sms-hint');

  var hintTimer = null;
  var resendLabel = resendButton.textContent; // "Resend code"
  var sending = false;
  var checking = false;
  var waitUntil = 0; // ms timestamp until which rate_limited / locked holds
  var waitTimer = null;
  var waitTicker = null;
  var lockedNow = false; // locked: checking is refused too, not only sending
  var finished = false;

  // A reload of the page must not send another code (and use up the hourly limit).
  var storageKey = 'intelliauth-sms:flow:' + flowId;

  function remember(masked) {
    try {
      window.sessionStorage.setItem(storageKey, masked);
    } catch (ignored) {
      /* private mode: a reload sends a new code, which is fine */
    }
  }

  function remembered() {
    try {
      return window.sessionStorage.getItem(storageKey);
    } catch (ignored) {
      return null;
    }
  }

  function forget() {
    try {
      window.sessionStorage.removeItem(storageKey);
    } catch (ignored) {
      /* nothing to forget */
    }
  }

  // The page's words, translated by the server (``sms_step_copy``); English if a site's
  // own template leaves the block out.
  var COPY = {
    sending: 'Sending code…',
    sendingAgain: 'Sending a new code…',
    sent: 'We sent a code to %(phone)s.',
    sentAgain: 'We sent a new code to %(phone)s. Only the latest code works.',
    notSent: 'We could not send a code.',
    checking: 'Checking…',
    verify: 'Verify',
    verified: 'Verified. Signing you in…',
    expired: 'This sign-in has expired.',
    signInAgain: 'Sign in again to get a new code.',
    oneAttemptLeft: '1 attempt left.',
    attemptsLeft: '%(count)s attempts left.',
    resendIn: 'Resend in %(wait)s',
    oneMinute: '1 minute',
    minutes: '%(count)s minutes',
  };
  var copyBlock = document.getElementById('sms-step-copy');
  if (copyBlock) {
    try {
      Object.assign(COPY, JSON.parse(copyBlock.textContent));
    } catch (ignored) {
      // A malformed block keeps the English words.
    }
  }

  function say(name, values) {
    return COPY[name].replace(/%\((\w+)\)s/g, function (whole, key) {
      return values && key in values ? String(values[key]) : whole;
    });
  }

  function minutes(seconds) {
    var count = Math.max(1, Math.ceil(seconds / 60));
    return count === 1 ? say('oneMinute') : say('minutes', { count: count });
  }

  function showError(message, detail) {
    errorMessage.textContent = message;
    errorDetail.textContent = detail || '';
    errorDetail.hidden = !detail;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorMessage.textContent = '';
    errorDetail.textContent = '';
  }

  function startHintTimer() {
    window.clearTimeout(hintTimer);
    hint.hidden = true;
    hintTimer = window.setTimeout(function () {
      if (!finished && !codeInput.value.trim()) {
        hint.hidden = false;
      }
    }, HINT_AFTER_MS);
  }

  function updateButtons() {
    var waiting = Date.now() < waitUntil;
    resendButton.disabled = sending || checking || waiting || finished;
    verifyButton.disabled = sending || checking || finished || lockedNow;
    resendButton.textContent = waiting
      ? say('resendIn', { wait: minutes((waitUntil - Date.now()) / 1000) })
      : resendLabel;
  }

  /** rate_limited and locked: keep the buttons off for the wait the API named. */
  function holdFor(error) {
    var seconds = error.retryAfter;
    lockedNow = error.code === 'locked';
    window.clearTimeout(waitTimer);
    window.clearInterval(waitTicker);
    if (seconds === null) {
      waitUntil = Number.MAX_SAFE_INTEGER; // locked until support unlocks the account
    } else {
      waitUntil = Date.now() + seconds * 1000;
      waitTimer = window.setTimeout(function () {
        waitUntil = 0;
        lockedNow = false;
        window.clearInterval(waitTicker);
        updateButtons();
      }, Math.min(seconds * 1000, MAX_TIMEOUT_MS));
      waitTicker = window.setInterval(updateButtons, 15 * 1000); // keep "in N minutes" true
    }
    updateButtons();
  }

  function expired() {
    finished = true;
    forget();
    window.clearTimeout(hintTimer);
    hint.hidden = true;
    codeForm.hidden = true;
    statusEl.textContent = say('expired');
    showError(say('signInAgain'));
    updateButtons();
  }

  function report(error) {
    if (error.code === 'not_found') {
      expired();
      return;
    }
    var detail = null;
    if (error.code === 'invalid_code' && error.attemptsRemaining !== null) {
      detail =
        error.attemptsRemaining === 1
          ? say('oneAttemptLeft')
          : say('attemptsLeft', { count: error.attemptsRemaining });
    }
    // The API's message is the guide's copy, and names the real wait where there is one.
    showError(error.message, detail);
    if (error.isWait) {
      holdFor(error);
    }
  }

  var stopAutofill = function () {};

  function showSent(masked, again) {
    statusEl.textContent = say(again ? 'sentAgain' : 'sent', { phone: masked });
    codeForm.hidden = false;
    codeInput.value = '';
    codeInput.focus();
    startHintTimer();
    // Where the browser can read the SMS (WebOTP), the code fills in and is sent itself.
    stopAutofill();
    stopAutofill = IntelliAuthSms.autofillOneTimeCode(codeInput, {
      onCode: function () {
        codeForm.requestSubmit();
      },
    });
  }

  async function send(again) {
    if (sending || finished) {
      return;
    }
    sending = true;
    clearError();
    updateButtons();
    var previousStatus = statusEl.textContent;
    statusEl.textContent = say(again ? 'sendingAgain' : 'sending');
    try {
      var answer = await client.initiateMfaStep(flowId, 'sms');
      remember(answer.phone_number_masked);
      showSent(answer.phone_number_masked, again);
    } catch (error) {
      // A refused resend leaves the code already sent working: keep saying where it went.
      statusEl.textContent = again ? previousStatus : say('notSent');
      codeForm.hidden = false;
      report(error);
    } finally {
      sending = false;
      updateButtons();
    }
  }

  async function check(event) {
    event.preventDefault();
    if (checking || finished) {
      return;
    }
    stopAutofill();
    checking = true;
    clearError();
    updateButtons();
    verifyButton.textContent = say('checking');
    try {
      await client.completeMfaStep(flowId, 'sms', { code: codeInput.value });
      finished = true;
      forget();
      window.clearTimeout(hintTimer);
      hint.hidden = true;
      statusEl.textContent = say('verified');
      finishForm.submit();
    } catch (error) {
      report(error);
      codeInput.focus();
      codeInput.select();
    } finally {
      checking = false;
      verifyButton.textContent = say('verify');
      updateButtons();
    }
  }

  codeForm.addEventListener('submit', check);
  resendButton.addEventListener('click', function () {
    send(true);
  });
  codeInput.addEventListener('input', function () {
    if (codeInput.value.trim()) {
      hint.hidden = true;
    }
  });

  var alreadySent = remembered();
  if (root.getAttribute('data-verified') === 'true') {
    finished = true;
    forget();
    statusEl.textContent = say('verified');
    finishForm.submit();
  } else if (alreadySent) {
    showSent(alreadySent, false);
    updateButtons();
  } else {
    send(false);
  }
})();
