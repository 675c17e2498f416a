/*!
 * intelliauth-sms browser client: the HTTP API of intelliauth_sms, shaped like the guide's SDK.
 *
 * Plain ES2017, no build step, no dependencies. Load it with a <script> tag (it defines
 * window.IntelliAuthSms) or require() it (module.exports).
 *
 *   const sms = IntelliAuthSms.create({ baseUrl: '/api/mfa/sms/', csrfToken: token });
 *   const enrolment = await sms.startMfaEnrolment('sms', { phone_number: '+14155550100' });
 *   // enrolment.kind === 'pending'
 *   await enrolment.complete({ code: '123456' });
 *
 *   await sms.initiateMfaStep(flowId, 'sms');             // 202: "Sending code..."
 *   await sms.completeMfaStep(flowId, 'sms', { code });   // { status: 'verified' }
 *
 *   // After `reauthentication_required` (or `mfa_required`): pass the SMS step again.
 *   const stepUp = await sms.reauthenticate();            // a step-up flow for this session
 *   await stepUp.initiate();                              // sends the code
 *   await stepUp.complete({ code });                      // then retry the action
 *
 * Every call returns a promise. A refusal rejects with an IntelliAuthError carrying the
 * API's stable `code`, its user-facing `message`, the HTTP `status`, and `retryAfter`
 * (seconds, or null) for `rate_limited` and `locked`, so a page can tell the user to wait.
 */
(function (root, factory) {
  'use strict';
  var api = factory();
  if (typeof module === 'object' && module && module.exports) {
    module.exports = api;
  }
  if (root) {
    root.IntelliAuthSms = api;
  }
})(typeof window !== 'undefined' ? window : (typeof globalThis !== 'undefined' ? globalThis : null), function () {
  'use strict';

  var DEFAULT_BASE_URL = '/api/mfa/sms/';
  var SUPPORTED_METHOD = 'sms';

  /** A refusal from the API (or the network), in the contract's terms. */
  class IntelliAuthError extends Error {
    constructor(code, message, details) {
      super(message);
      var extra = details || {};
      this.name = 'IntelliAuthError';
      /** The API's stable error code, e.g. "rate_limited", "locked", "invalid_code". */
      this.code = code;
      /** HTTP status, or 0 when the request never got an answer. */
      this.status = typeof extra.status === 'number' ? extra.status : 0;
      /** Seconds to wait (rate_limited, locked), or null when unknown or support-only. */
      this.retryAfter = typeof extra.retryAfter === 'number' ? extra.retryAfter : null;
      /** For invalid_code: wrong codes left before the lockout; otherwise null. */
      this.attemptsRemaining =
        typeof extra.attemptsRemaining === 'number' ? extra.attemptsRemaining : null;
      /** The parsed error body, when there was one. */
      this.body = extra.body === undefined ? null : extra.body;
    }

    /** True for the refusals that ask the user to wait: rate_limited and locked. */
    get isWait() {
      return this.code === 'rate_limited' || this.code === 'locked';
    }

    /** True when the action needs the SMS step first: run reauthenticate(), then retry. */
    get needsSmsStep() {
      return this.code === 'reauthentication_required' || this.code === 'mfa_required';
    }
  }

  function readCookie(name) {
    if (typeof document === 'undefined' || !document.cookie) {
      return null;
    }
    var parts = document.cookie.split(';');
    for (var i = 0; i < parts.length; i += 1) {
      var part = parts[i].trim();
      if (part.slice(0, name.length + 1) === name + '=') {
        return decodeURIComponent(part.slice(name.length + 1));
      }
    }
    return null;
  }

  function withTrailingSlash(url) {
    return url.charAt(url.length - 1) === '/' ? url : url + '/';
  }

  function segment(value) {
    return encodeURIComponent(String(value));
  }

  function requireSms(method) {
    if (method !== SUPPORTED_METHOD) {
      throw new IntelliAuthError(
        'unsupported_method',
        'Only the "sms" method is supported by this client.'
      );
    }
  }

  function retryAfterOf(error, response) {
    if (error && typeof error.retry_after === 'number') {
      return error.retry_after;
    }
    if (error && error.retry_after === null) {
      return null; // locked until support unlocks the account
    }
    var header = response.headers.get('Retry-After');
    if (header && /^[0-9]+$/.test(header)) {
      return parseInt(header, 10);
    }
    return null;
  }

  async function readJson(response) {
    var type = response.headers.get('Content-Type') || '';
    if (response.status === 204 || type.indexOf('json') === -1) {
      return null;
    }
    try {
      return await response.json();
    } catch (ignored) {
      return null;
    }
  }

  /**
   * Make a client.
   *
   * options.baseUrl   where the site includes intelliauth_sms.api.urls (default /api/mfa/sms/)
   * options.csrfToken the CSRF token (a string or a function returning one); by default it
   *                   is read from the `csrftoken` cookie on each request
   * options.fetch     a fetch implementation (default: the global fetch)
   */
  function create(options) {
    var opts = options || {};
    var baseUrl = withTrailingSlash(opts.baseUrl || DEFAULT_BASE_URL);
    var fetchImpl =
      opts.fetch ||
      (typeof fetch !== 'undefined'
        ? function (url, init) {
            return fetch(url, init);
          }
        : null);
    var csrfCookieName = opts.csrfCookieName || 'csrftoken';

    function csrfToken() {
      if (typeof opts.csrfToken === 'function') {
        return opts.csrfToken();
      }
      return opts.csrfToken || readCookie(csrfCookieName);
    }

    async function request(method, path, body) {
      if (!fetchImpl) {
        throw new IntelliAuthError('network_error', 'fetch is not available.');
      }
      var headers = { Accept: 'application/json' };
      var token = csrfToken();
      if (token) {
        headers['X-CSRFToken'] = token;
      }
      var init = { method: method, headers: headers, credentials: 'same-origin' };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      var response;
      try {
        response = await fetchImpl(baseUrl + path, init);
      } catch (cause) {
        throw new IntelliAuthError(
          'network_error',
          "We couldn't reach the server. Check your connection and try again.",
          { body: null }
        );
      }
      var data = await readJson(response);
      if (response.ok) {
        return data;
      }
      var error = data && typeof data.error === 'object' && data.error ? data.error : null;
      if (!error) {
        throw new IntelliAuthError(
          'http_error',
          'Something went wrong (HTTP ' + response.status + '). Try again.',
          { status: response.status, body: data }
        );
      }
      throw new IntelliAuthError(String(error.code), String(error.message), {
        status: response.status,
        retryAfter: retryAfterOf(error, response),
        attemptsRemaining: error.attempts_remaining,
        body: data,
      });
    }

    /** A pending enrolment: the fields of the API's answer plus resend() and complete(). */
    function enrolmentFrom(data) {
      var enrolment = {
        kind: data.kind,
        id: data.id,
        phone_number_masked: data.phone_number_masked,
        expires_at: data.expires_at,
        /** A new code; the previous one stops working. Resolves to this enrolment. */
        resend: async function () {
          var fresh = await request('POST', 'enrolments/' + segment(enrolment.id) + '/resend/', {});
          enrolment.phone_number_masked = fresh.phone_number_masked;
          enrolment.expires_at = fresh.expires_at;
          return enrolment;
        },
        /** The code the user typed; resolves to {kind: 'enrolled', factor}. */
        complete: async function (input) {
          var code = input && input.code;
          var result = await request(
            'POST',
            'enrolments/' + segment(enrolment.id) + '/complete/',
            { code: code }
          );
          enrolment.kind = result.kind;
          enrolment.factor = result.factor;
          return result;
        },
      };
      return enrolment;
    }

    var client = {
      baseUrl: baseUrl,

      /** startMfaEnrolment('sms', {phone_number, purpose?}) -> pending enrolment. */
      startMfaEnrolment: async function (method, input) {
        requireSms(method);
        var fields = input || {};
        var body = { phone_number: fields.phone_number };
        if (fields.purpose !== undefined) {
          body.purpose = fields.purpose;
        }
        return enrolmentFrom(await request('POST', 'enrolments/', body));
      },

      /** initiateMfaStep(flowId, 'sms', {factor_id?}) -> {status: 'pending', ...}; sends the SMS. */
      initiateMfaStep: async function (flowId, method, input) {
        requireSms(method);
        var body = {};
        if (input && input.factor_id !== undefined && input.factor_id !== null) {
          body.factor_id = input.factor_id;
        }
        return request('POST', 'flows/' + segment(flowId) + '/sms/initiate/', body);
      },

      /** completeMfaStep(flowId, 'sms', {code}) -> {status: 'verified'}. */
      completeMfaStep: async function (flowId, method, input) {
        requireSms(method);
        var code = input && input.code;
        return request('POST', 'flows/' + segment(flowId) + '/sms/complete/', { code: code });
      },

      /** The signed-in user's factors, masked. */
      listFactors: async function () {
        return request('GET', 'factors/');
      },

      /** The full number of one factor ({phone_number}); the API records an audit event. */
      revealFactor: async function (factorId) {
        return request('POST', 'factors/' + segment(factorId) + '/reveal/', {});
      },

      /** Remove one factor; resolves to null. */
      removeFactor: async function (factorId) {
        return request('DELETE', 'factors/' + segment(factorId) + '/');
      },

      /** A number as typed, with its country, in E.164 ({phone_number, phone_number_masked}). */
      normalisePhoneNumber: async function (country, number) {
        return request('POST', 'phone-numbers/normalise/', { country: country, number: number });
      },

      /** The security questions offered ([{id, text}]); `tenant` (a slug) when signed out. */
      listSecurityQuestions: async function (tenant) {
        var query = tenant ? '?tenant=' + encodeURIComponent(tenant) : '';
        return request('GET', 'security-questions/' + query);
      },

      /** Replace the signed-in user's answers ({questionId: answer}); resolves to null. */
      setSecurityAnswers: async function (answers) {
        return request('PUT', 'security-answers/', { answers: answers });
      },

      /**
       * Account recovery: {username, password, security_answers?} -> {id, status, phone_number_masked};
       * the code goes to the account's backup phone.
       */
      startRecovery: async function (input) {
        return request('POST', 'recovery/', input || {});
      },

      /** completeRecovery(recoveryId, {code}) -> {status: 'recovered'}. */
      completeRecovery: async function (recoveryId, input) {
        var code = input && input.code;
        return request('POST', 'recovery/' + segment(recoveryId) + '/complete/', { code: code });
      },

      /**
       * Start a step-up for the signed-in user (POST reauthentication/), bound to this
       * browser session. Resolves to {flowId, expires_at, initiate(input?), complete({code})}:
       * once complete() resolves to {status: 'verified'}, retry the refused action.
       */
      reauthenticate: async function () {
        var started = await request('POST', 'reauthentication/', {});
        var flowId = started.flow_id;
        return {
          flowId: flowId,
          expires_at: started.expires_at,
          /** Sends the code; resolves to {status: 'pending', phone_number_masked, expires_at}. */
          initiate: function (input) {
            return client.initiateMfaStep(flowId, SUPPORTED_METHOD, input);
          },
          /** The code the user typed; resolves to {status: 'verified'}. */
          complete: function (input) {
            return client.completeMfaStep(flowId, SUPPORTED_METHOD, input);
          },
        };
      },
    };
    return client;
  }

  /**
   * WebOTP: let the browser read the code from the SMS (Chrome on Android, with the
   * site's WEBOTP_DOMAIN line in the SMS), fill `input` with it and call
   * `options.onCode(code)`. Does nothing where the browser lacks the API. Returns a
   * function that stops waiting (call it when the form is submitted or closed).
   */
  function autofillOneTimeCode(input, options) {
    var opts = options || {};
    if (
      typeof window === 'undefined' ||
      !('OTPCredential' in window) ||
      !window.navigator.credentials ||
      typeof AbortController === 'undefined'
    ) {
      return function () {};
    }
    var controller = new AbortController();
    window.navigator.credentials
      .get({ otp: { transport: ['sms'] }, signal: controller.signal })
      .then(function (otp) {
        if (otp && otp.code && !controller.signal.aborted) {
          input.value = otp.code;
          if (typeof opts.onCode === 'function') {
            opts.onCode(otp.code);
          }
        }
      })
      .catch(function () {
        // Refused, aborted or timed out: the user types the code, as without WebOTP.
      });
    return function () {
      controller.abort();
    };
  }

  return {
    create: create,
    autofillOneTimeCode: autofillOneTimeCode,
    /** The guide's name for the same factory. */
    useIntelliAuth: create,
    IntelliAuthError: IntelliAuthError,
  };
});
