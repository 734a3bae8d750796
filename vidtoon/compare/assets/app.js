// vidtoon's blind A/B page: every pair of methods x every question, in a random order, each method on a random
// side; votes kept in localStorage (a reload continues where it stopped) and saved as JSON by "Download votes".
// The page knows the methods only by id (m1, m2, ...); key.json, which it never reads, says which is which.
"use strict";

(function () {
  const study = window.VIDTOON_STUDY;
  const storeKey = "vidtoon-ab-" + study.study;
  const $ = (id) => document.getElementById(id);

  function randomInt(n) {
    const buffer = new Uint32Array(1);
    window.crypto.getRandomValues(buffer);
    return buffer[0] % n;
  }

  function shuffle(items) {  // Fisher-Yates
    for (let i = items.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  function newState() {
    const trials = [];
    const ids = study.methods;
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        for (const question of study.questions) {
          const flip = randomInt(2) === 1;
          trials.push({ pair: [ids[i], ids[j]], left: flip ? ids[j] : ids[i], right: flip ? ids[i] : ids[j], question: question.id });
        }
      }
    }
    const rater = Array.from(window.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
    return { rater: rater, started: new Date().toISOString(), trials: shuffle(trials), votes: [] };
  }

  function load() {
    try {
      const saved = JSON.parse(window.localStorage.getItem(storeKey));
      if (saved && Array.isArray(saved.trials) && Array.isArray(saved.votes)) return saved;
    } catch (e) { /* a damaged entry: start afresh */ }
    return null;
  }

  let state = load() || newState();
  let shownAt = 0;

  function save() {
    window.localStorage.setItem(storeKey, JSON.stringify(state));
    $("saved").textContent = state.votes.length + " vote(s) saved in this browser";
  }

  function media(id, label) {
    const path = id === "source" ? study.source : study.media[id];
    let element;
    if (study.kind === "image") {
      element = document.createElement("img");
      element.alt = label;
    } else {
      element = document.createElement("video");
      element.muted = true;
      element.loop = true;
      element.autoplay = true;
      element.playsInline = true;
      element.setAttribute("aria-label", label);
    }
    element.src = path;
    element.dataset.id = id;
    return element;
  }

  function questionText(id) {
    const found = study.questions.find((q) => q.id === id);
    return found ? found.text : id;
  }

  function show() {
    const index = state.votes.length;
    const total = state.trials.length;
    if (index >= total) {
      $("trial").hidden = true;
      $("done").hidden = false;
      $("progress").textContent = total + " of " + total + " done";
      return;
    }
    const trial = state.trials[index];
    $("done").hidden = true;
    $("trial").hidden = false;
    $("progress").textContent = "Trial " + (index + 1) + " of " + total;
    $("question").textContent = questionText(trial.question);
    $("left-slot").replaceChildren(media(trial.left, "left"));
    $("right-slot").replaceChildren(media(trial.right, "right"));
    $("left").dataset.id = trial.left;
    $("right").dataset.id = trial.right;
    if (study.source) {
      $("reference").hidden = false;
      $("source-slot").replaceChildren(media("source", "original"));
    }
    shownAt = performance.now();
  }

  function choose(side) {
    const index = state.votes.length;
    if (index >= state.trials.length) return;
    const trial = state.trials[index];
    state.votes.push({
      trial: index,
      pair: trial.pair,
      left: trial.left,
      right: trial.right,
      question: trial.question,
      question_text: questionText(trial.question),
      choice: side === "left" ? trial.left : trial.right,
      side: side,
      time: new Date().toISOString(),
      ms: Math.round(performance.now() - shownAt),
    });
    save();
    show();
  }

  function votes() {
    return {
      format: "vidtoon-ab-votes",
      version: 1,
      study: study.study,
      rater: state.rater,
      started: state.started,
      exported: new Date().toISOString(),
      user_agent: navigator.userAgent,
      trials: state.votes,
    };
  }

  function download() {
    const blob = new Blob([JSON.stringify(votes(), null, 1)], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "votes-" + study.study + "-" + state.rater + ".json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  function replay() {
    document.querySelectorAll("video").forEach((v) => { v.currentTime = 0; v.play().catch(() => {}); });
  }

  $("left").addEventListener("click", () => choose("left"));
  $("right").addEventListener("click", () => choose("right"));
  $("export").addEventListener("click", download);
  $("replay").addEventListener("click", (event) => { event.stopPropagation(); replay(); });
  $("restart").addEventListener("click", () => {
    if (state.votes.length && !window.confirm("Forget the " + state.votes.length + " vote(s) given so far?")) return;
    state = newState();
    save();
    show();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") choose("left");
    if (event.key === "ArrowRight") choose("right");
  });
  window.vidtoonVotes = votes;  // for scripts that drive the page (tests, kiosks)
  save();
  show();
})();
