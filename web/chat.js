/* Starts the rasa-webchat widget and adds what it lacks: a typing indicator while the
 * assistant works, a clear notice while the connection is down (socket.io reconnects by
 * itself), quick replies that work from the keyboard, and labels for screen readers.
 * Messages are never put into the page as HTML here: only textContent is set. */
(function () {
  "use strict";

  var status = document.getElementById("chat-status");
  var target = document.getElementById("webchat");
  var state = { connected: false, everConnected: false, waiting: false };
  var slowTimer = null;

  function showStatus(text, kind) {
    status.textContent = text;
    status.className = "chat-status" + (kind ? " chat-status--" + kind : "");
    status.hidden = !text;
  }

  function render() {
    if (!state.connected && state.everConnected) {
      showStatus("Connection lost. Reconnecting… Your conversation is kept.", "offline");
    } else if (!state.connected) {
      showStatus("Connecting…", "info");
    } else if (state.waiting) {
      showStatus("The assistant is writing…", "typing");
    } else {
      showStatus("", "");
    }
  }

  // While a helpline counsellor has the conversation the assistant stays quiet, so the
  // parent is told who will answer instead of "the assistant is writing".
  function withCounsellor() {
    var replies = document.querySelectorAll("#rw-messages .rw-response");
    for (var i = replies.length - 1; i >= 0; i--) {
      var text = replies[i].textContent || "";
      if (/handed the chat back/.test(text)) return false;
      if (/asked (a counsellor|a person)/.test(text)) return true;
    }
    return false;
  }

  function startWaiting() {
    if (withCounsellor()) {
      showStatus("A counsellor will answer here. They can see everything you write.", "info");
      return;
    }
    state.waiting = true;
    clearTimeout(slowTimer);
    slowTimer = setTimeout(function () {
      if (state.waiting) {
        state.waiting = false;
        showStatus("This is taking longer than usual. Please try sending again.", "offline");
      }
    }, 30000);
    render();
  }

  function stopWaiting() {
    state.waiting = false;
    clearTimeout(slowTimer);
    render();
  }

  // A parent sends by pressing Enter / the send button, or by choosing a quick reply.
  document.addEventListener("submit", function (event) {
    if (event.target.closest && event.target.closest(".rw-sender")) {
      var box = event.target.querySelector(".rw-new-message");
      if (box && box.value.trim()) startWaiting();
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".rw-reply")) startWaiting();
  }, true);

  // Quick replies are <div>s in rasa-webchat: make them focusable buttons.
  document.addEventListener("keydown", function (event) {
    var reply = event.target.closest && event.target.closest(".rw-reply");
    if (reply && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      reply.click();
    }
  });

  function improve() {
    target.querySelectorAll(".rw-reply:not([tabindex])").forEach(function (el) {
      el.setAttribute("role", "button");
      el.setAttribute("tabindex", "0");
    });
    var log = document.getElementById("rw-messages");
    if (log && !log.hasAttribute("role")) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", "Conversation");
    }
    var box = target.querySelector(".rw-new-message");
    if (box && !box.hasAttribute("aria-label")) box.setAttribute("aria-label", "Your message");
    var send = target.querySelector(".rw-send");
    if (send && !send.hasAttribute("aria-label")) send.setAttribute("aria-label", "Send");
  }
  new MutationObserver(improve).observe(target, { childList: true, subtree: true });

  function onConnect() {
    state.connected = true;
    state.everConnected = true;
    render();
  }

  function onDisconnect() {
    state.connected = false;
    render();
  }

  window.WebChat.default({
    socketUrl: window.location.origin,
    socketPath: "/socket.io/",
    initPayload: "/greet",
    embedded: true,
    title: "Gentle Parenting Support",
    subtitle: "Not a replacement for professional help",
    inputTextFieldHint: "Tell me what happened…",
    connectingText: "Connecting…",
    hideWhenNotConnected: false,
    withRules: false, // Botfront's server-side rules: not used (and they hide the widget)
    showCloseButton: false,
    // Session storage: a reload keeps the conversation; closing the tab forgets it on a
    // shared device.
    params: { storage: "session" },
    customMessageDelay: function (message) {
      return Math.min(1500, Math.max(400, 15 * message.length));
    },
    mainColor: "#5a3486",
    userBackgroundColor: "#5a3486",
    userTextColor: "#ffffff",
    assistBackgoundColor: "#f4efe8",
    assistTextColor: "#1f1f1f",
    onSocketEvent: {
      connect: onConnect,
      disconnect: onDisconnect,
      connect_error: onDisconnect,
      bot_uttered: stopWaiting
    }
  }, target);
  render();
})();
