// The latent explorer page: holds the latent vectors, asks the server for pictures of G(z).
"use strict";

const layout = JSON.parse(document.getElementById("layout").textContent);
const $ = (id) => document.getElementById(id);
const state = { z: [], seed: 0, a: null, b: null, busy: false, again: false };

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function conditioning() {
  const extra = {};
  if ($("class-select")) extra.label = Number($("class-select").value);
  const codes = [...document.querySelectorAll(".code-slider")].map((s) => Number(s.value));
  if (codes.length) extra.continuous = codes;
  if ($("category-select")) extra.category = Number($("category-select").value);
  return extra;
}

async function showPng(img, response) {
  const url = URL.createObjectURL(await response.blob());
  await new Promise((resolve) => { img.onload = resolve; img.src = url; });
  img.dataset.generation = String(Number(img.dataset.generation) + 1);
}

// One request at a time; a change made meanwhile is drawn as soon as the request returns.
async function render() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  try {
    do {
      state.again = false;
      const t0 = performance.now();
      const response = await post("/api/generate", { z: state.z, ...conditioning() });
      await showPng($("samples"), response);
      status(`${state.z.length} sample${state.z.length > 1 ? "s" : ""} in ${Math.round(performance.now() - t0)} ms`);
    } while (state.again);
  } catch (e) {
    status(e.message, true);
  } finally {
    state.busy = false;
  }
}

async function reroll(nextSeed = true) {
  if (nextSeed) state.seed += 1;
  $("seed").textContent = state.seed;
  try {
    const response = await post("/api/z", { n: Number($("count").value), seed: state.seed });
    state.z = (await response.json()).z;
  } catch (e) {
    status(e.message, true);
    return;
  }
  showDim();
  await render();
}

function showDim() {
  const dim = Number($("dim-select").value);
  $("dim-name").textContent = dim;
  $("dim-slider").value = state.z.length ? state.z[0][dim] : 0;
  $("dim-value").textContent = Number($("dim-slider").value).toFixed(2);
}

function setDim() {
  const dim = Number($("dim-select").value), value = Number($("dim-slider").value);
  state.z.forEach((v) => { v[dim] = value; });
  $("dim-value").textContent = value.toFixed(2);
  render();
}

function setEnd(which) {
  state[which] = state.z[0].slice();
  $("ends").textContent = `A ${state.a ? "set" : "not set"}, B ${state.b ? "set" : "not set"}`;
  $("interpolate").disabled = !(state.a && state.b);
}

async function interpolateEnds() {
  try {
    const steps = Number($("steps").value);
    const response = await post("/api/interpolate", { z_a: state.a, z_b: state.b, steps, ...conditioning() });
    $("interp-figure").hidden = false;
    await showPng($("interp"), response);
  } catch (e) {
    status(e.message, true);
  }
}

$("reroll").addEventListener("click", () => reroll());
$("count").addEventListener("change", () => reroll(false));
$("dim-select").addEventListener("change", showDim);
$("dim-slider").addEventListener("input", setDim);
$("set-a").addEventListener("click", () => setEnd("a"));
$("set-b").addEventListener("click", () => setEnd("b"));
$("interpolate").addEventListener("click", interpolateEnds);
for (const el of document.querySelectorAll(".code-slider, #class-select, #category-select")) {
  el.addEventListener("input", render);
}
reroll(false);
