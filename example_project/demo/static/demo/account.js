/* The demo's account page: list, reveal and remove phones, and add one. */
(function () {
  'use strict';

  var HINT_AFTER_MS = 30 * 1000;

  var root = document.getElementById('account');
  if (!root) {
    return;
  }
  var client = IntelliAuthSms.create({
    baseUrl: root.getAttribute('data-api-base-url'),
    csrfToken: root.querySelector('[name=csrfmiddlewaretoken]').value,
  });

  var list = document.getElementById('factor-list');
  var noFactors = document.getElementById('no-factors');
  var factorError = document.getElementById('factor-error');

  var addForm = document.getElementById('add-phone-form');
  var countrySelect = document.getElementById('country');
  var phoneInput = document.getElementById('phone');
  var purposeSelect = document.getElementById('purpose');
  var sendButton = document.getElementById('send-code');
  var confirmForm = document.getElementById('confirm-phone-form');
  var enrolStatus = document.getElementById('enrol-status');
  var enrolCode = document.getElementById('enrol-code');
  var enrolVerify = document.getElementById('enrol-verify');
  var enrolResend = document.getElementById('enrol-resend');
  var enrolCancel = document.getElementById('enrol-cancel');
  var addError = document.getElementById('add-error');
  var addHint = document.getElementById('add-hint');
  var addSuccess = document.getElementById('add-success');

  var stepUpForm = document.getElementById('step-up-form');
  var stepUpStatus = document.getElementById('step-up-status');
  var stepUpCode = document.getElementById('step-up-code');
  var stepUpVerify = document.getElementById('step-up-verify');
  var stepUpResend = document.getElementById('step-up-resend');
  var stepUpCancel = document.getElementById('step-up-cancel');
  var stepUpError = document.getElementById('step-up-error');

  var PURPOSE_LABELS = { mfa: 'Sign-in (MFA)', backup: 'Backup (recovery)' };

  var enrolment = null;
  var hintTimer = null;
  // WebOTP (where the browser has it): codes fill in from the SMS and are sent.
  var stopEnrolAutofill = function () {};
  var stopStepUpAutofill = function () {};
  var busy = false;

  function showAddError(error) {
    addError.textContent = error.message;
    addError.hidden = false;
  }

  function clearAddMessages() {
    addError.hidden = true;
    addError.textContent = '';
    addSuccess.hidden = true;
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    enrolVerify.disabled = value;
    enrolResend.disabled = value;
  }

  function startHintTimer() {
    window.clearTimeout(hintTimer);
    addHint.hidden = true;
    hintTimer = window.setTimeout(function () {
      if (enrolment && !enrolCode.value.trim()) {
        addHint.hidden = false;
      }
    }, HINT_AFTER_MS);
  }

  function stopHint() {
    window.clearTimeout(hintTimer);
    addHint.hidden = true;
  }

  // --- Confirming it's you (the SMS step again) --------------------------------------
  //
  // Reveal, remove and adding another phone need an SMS step in the last few minutes; the
  // API answers `reauthentication_required` (or `mfa_required`) otherwise. The page then
  // runs a step-up inline and tries the action once more.

  var stepUp = null;
  var waiting = null; // {resolve, reject} of the action waiting for the step

  function showStepUpError(error) {
    stepUpError.textContent = error.message;
    stepUpError.hidden = false;
  }

  async function sendStepUpCode(again) {
    stepUpError.hidden = true;
    stepUpStatus.textContent = 'Sending code…';
    try {
      var sent = await stepUp.initiate();
      stepUpStatus.textContent =
        (again ? 'We sent a new code to ' : 'For your security, enter the code we sent to ') +
        sent.phone_number_masked +
        '.';
      stepUpCode.value = '';
      stepUpCode.focus();
      stopStepUpAutofill();
      stopStepUpAutofill = IntelliAuthSms.autofillOneTimeCode(stepUpCode, {
        onCode: function () {
          stepUpForm.requestSubmit();
        },
      });
    } catch (error) {
      stepUpStatus.textContent = '';
      showStepUpError(error);
    }
  }

  function endStepUp() {
    stopStepUpAutofill();
    stepUpForm.hidden = true;
    stepUp = null;
    waiting = null;
  }

  /** Run the SMS step in the page; resolves once it is verified, rejects on cancel. */
  function confirmItsYou() {
    return new Promise(function (resolve, reject) {
      waiting = { resolve: resolve, reject: reject };
      stepUpForm.hidden = false;
      stepUpError.hidden = true;
      client
        .reauthenticate()
        .then(function (started) {
          stepUp = started;
          return sendStepUpCode(false);
        })
        .catch(function (error) {
          showStepUpError(error);
        });
    });
  }

  /** Do `action`; if it needs the SMS step, run it, then do `action` once more. */
  async function withSmsStep(action) {
    try {
      return await action();
    } catch (error) {
      if (!error.needsSmsStep) {
        throw error;
      }
      await confirmItsYou();
      return action();
    }
  }

  stepUpForm.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (!stepUp || !waiting) {
      return;
    }
    stepUpVerify.disabled = true;
    stepUpError.hidden = true;
    try {
      await stepUp.complete({ code: stepUpCode.value });
      var done = waiting;
      endStepUp();
      done.resolve();
    } catch (error) {
      showStepUpError(error);
      stepUpCode.focus();
      stepUpCode.select();
    } finally {
      stepUpVerify.disabled = false;
    }
  });

  stepUpResend.addEventListener('click', function () {
    if (stepUp) {
      sendStepUpCode(true);
    }
  });

  stepUpCancel.addEventListener('click', function () {
    var cancelled = waiting;
    endStepUp();
    if (cancelled) {
      cancelled.reject(
        new IntelliAuthSms.IntelliAuthError('cancelled', 'Cancelled: nothing was changed.')
      );
    }
  });

  // --- The list of factors -----------------------------------------------------------

  function factorItem(factor) {
    var item = document.createElement('li');
    item.className = 'factor';
    item.setAttribute('data-factor-id', factor.id);
    item.setAttribute('data-masked', factor.phone_number_masked);

    var number = document.createElement('span');
    number.className = 'number';
    number.textContent = factor.phone_number_masked;

    var badge = document.createElement('span');
    badge.className = 'badge badge-' + factor.purpose;
    badge.textContent = PURPOSE_LABELS[factor.purpose] || factor.purpose;

    var actions = document.createElement('span');
    actions.className = 'factor-actions';
    var reveal = document.createElement('button');
    reveal.type = 'button';
    reveal.className = 'secondary small reveal';
    reveal.textContent = 'Reveal';
    var remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'danger small remove';
    remove.textContent = 'Remove';
    actions.appendChild(reveal);
    actions.appendChild(remove);

    item.appendChild(number);
    item.appendChild(document.createTextNode(' '));
    item.appendChild(badge);
    item.appendChild(document.createTextNode(' '));
    item.appendChild(actions);
    return item;
  }

  async function refreshFactors() {
    var factors = await client.listFactors();
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    factors.forEach(function (factor) {
      list.appendChild(factorItem(factor));
    });
    noFactors.hidden = factors.length > 0;
  }

  function showFactorError(error) {
    factorError.textContent = error.message;
    factorError.hidden = false;
  }

  list.addEventListener('click', async function (event) {
    var button = event.target.closest('button');
    if (!button) {
      return;
    }
    var item = button.closest('.factor');
    var factorId = item.getAttribute('data-factor-id');
    var number = item.querySelector('.number');
    factorError.hidden = true;

    if (button.classList.contains('reveal')) {
      if (item.classList.contains('revealed')) {
        number.textContent = item.getAttribute('data-masked');
        item.classList.remove('revealed');
        button.textContent = 'Reveal';
        return;
      }
      button.disabled = true;
      try {
        var revealed = await withSmsStep(function () {
          return client.revealFactor(factorId);
        });
        number.textContent = revealed.phone_number;
        item.classList.add('revealed');
        button.textContent = 'Hide';
      } catch (error) {
        showFactorError(error);
      } finally {
        button.disabled = false;
      }
      return;
    }

    if (button.classList.contains('remove')) {
      var masked = item.getAttribute('data-masked');
      if (!window.confirm('Remove ' + masked + '? You will no longer get codes on it.')) {
        return;
      }
      button.disabled = true;
      try {
        await withSmsStep(function () {
          return client.removeFactor(factorId);
        });
        list.removeChild(item);
        noFactors.hidden = list.children.length > 0;
      } catch (error) {
        button.disabled = false;
        showFactorError(error);
      }
    }
  });

  // --- Adding a phone ----------------------------------------------------------------

  function updatePlaceholder() {
    var option = countrySelect.options[countrySelect.selectedIndex];
    var example = option ? option.getAttribute('data-example') : '';
    phoneInput.placeholder = example ? 'e.g. ' + example : '';
  }

  function showConfirm(again) {
    addForm.hidden = true;
    confirmForm.hidden = false;
    enrolStatus.textContent =
      (again ? 'We sent a new code to ' : 'We sent a code to ') +
      enrolment.phone_number_masked +
      '.' +
      (again ? ' Only the latest code works.' : '');
    enrolCode.value = '';
    enrolCode.focus();
    startHintTimer();
    stopEnrolAutofill();
    stopEnrolAutofill = IntelliAuthSms.autofillOneTimeCode(enrolCode, {
      onCode: function () {
        confirmForm.requestSubmit();
      },
    });
  }

  function backToNumber() {
    stopEnrolAutofill();
    enrolment = null;
    stopHint();
    confirmForm.hidden = true;
    addForm.hidden = false;
    phoneInput.focus();
  }

  addForm.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    clearAddMessages();
    setBusy(true);
    sendButton.textContent = 'Sending…';
    try {
      // The enrolment API takes E.164 only: format what the person typed first.
      enrolment = await withSmsStep(async function () {
        var phone = await client.normalisePhoneNumber(countrySelect.value, phoneInput.value);
        return client.startMfaEnrolment('sms', {
          phone_number: phone.phone_number,
          purpose: purposeSelect.value,
        });
      });
      showConfirm(false);
    } catch (error) {
      showAddError(error);
      phoneInput.focus();
    } finally {
      sendButton.textContent = 'Send code';
      setBusy(false);
    }
  });

  confirmForm.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (busy || !enrolment) {
      return;
    }
    clearAddMessages();
    setBusy(true);
    enrolVerify.textContent = 'Checking…';
    try {
      var result = await enrolment.complete({ code: enrolCode.value });
      stopHint();
      enrolment = null;
      confirmForm.hidden = true;
      addForm.hidden = false;
      addForm.reset();
      updatePlaceholder();
      addSuccess.textContent = 'Added ' + result.factor.phone_number_masked + '.';
      addSuccess.hidden = false;
      await refreshFactors();
    } catch (error) {
      showAddError(error);
      enrolCode.focus();
      enrolCode.select();
    } finally {
      enrolVerify.textContent = 'Verify';
      setBusy(false);
    }
  });

  enrolResend.addEventListener('click', async function () {
    if (busy || !enrolment) {
      return;
    }
    clearAddMessages();
    setBusy(true);
    try {
      await enrolment.resend();
      showConfirm(true);
    } catch (error) {
      showAddError(error);
    } finally {
      setBusy(false);
    }
  });

  enrolCancel.addEventListener('click', function () {
    clearAddMessages();
    backToNumber();
  });

  enrolCode.addEventListener('input', function () {
    if (enrolCode.value.trim()) {
      addHint.hidden = true;
    }
  });

  countrySelect.addEventListener('change', updatePlaceholder);
  updatePlaceholder();

  // --- Security answers (for account recovery) ---------------------------------------

  var answersForm = document.getElementById('answers-form');
  var answersError = document.getElementById('answers-error');
  var answersSaved = document.getElementById('answers-saved');
  var answersState = document.getElementById('answers-state');

  answersForm.addEventListener('submit', async function (event) {
    event.preventDefault();
    answersError.hidden = true;
    answersSaved.hidden = true;
    var answers = {};
    var count = 0;
    answersForm.querySelectorAll('input[data-question-id]').forEach(function (input) {
      if (input.value.trim()) {
        answers[input.getAttribute('data-question-id')] = input.value;
        count += 1;
      }
    });
    try {
      await withSmsStep(function () {
        return client.setSecurityAnswers(answers);
      });
      answersForm.reset();
      answersState.textContent =
        'You have answered ' + count + ' question' + (count === 1 ? '' : 's') + '. Saving replaces them.';
      answersSaved.textContent = 'Saved. We emailed you about the change.';
      answersSaved.hidden = false;
    } catch (error) {
      answersError.textContent = error.message;
      answersError.hidden = false;
    }
  });

  // A session that has not passed the SMS step yet (the user has a phone): run it first.
  if (root.getAttribute('data-needs-sms-step') === '1') {
    withSmsStep(function () {
      return client.listFactors().then(function () {
        return refreshFactors();
      });
    }).catch(showFactorError);
  }
})();
