import { api, ApiError, forgetToken, plansPath, storedToken, storeToken } from './api.js';
import { planView } from './plan-view.js';
import { plansListView } from './plans-list.js';

/** How often the open view reads the API again. */
const POLL_MS = 2_000;

const byId = (id) => document.getElementById(id);
let view = null;
let timer = null;
let generation = 0;

function showAlert(message) {
  const alert = byId('alert');
  alert.hidden = !message;
  alert.textContent = message ?? '';
}

/** Shows the sign-in form (and nothing else); `refusal` explains why, e.g. a token the coordinator refused. */
function showSignIn(refusal) {
  clearTimeout(timer);
  generation++;
  view = null;
  byId('view').hidden = true;
  byId('view').replaceChildren();
  byId('sign-out').hidden = true;
  byId('updated').textContent = '';
  showAlert(null);
  byId('sign-in').hidden = false;
  const error = byId('sign-in-error');
  error.hidden = !refusal;
  error.textContent = refusal ?? '';
  byId('token').focus();
}

function routeView() {
  const match = /^#\/plans\/([^/]+)$/.exec(location.hash);
  return match ? planView(decodeURIComponent(match[1])) : plansListView();
}

/** Refreshes the open view, then schedules the next refresh; a 401 sends the page back to the sign-in form. */
async function poll(current, ownGeneration) {
  try {
    await current.refresh();
    if (ownGeneration !== generation) return;
    showAlert(null);
    byId('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (ownGeneration !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      forgetToken();
      showSignIn(`The coordinator refused the token: ${error.message} (401 ${error.code}).`);
      return;
    }
    showAlert(`${error.message}${error.code ? ` (${error.code})` : ''}`);
  }
  if (ownGeneration === generation) timer = setTimeout(() => poll(current, ownGeneration), POLL_MS);
}

function open() {
  clearTimeout(timer);
  const ownGeneration = ++generation;
  view?.dispose();
  view = routeView();
  document.title = `${view.title} · ShardBridge`;
  byId('sign-in').hidden = true;
  byId('view').hidden = false;
  byId('view').replaceChildren(view.element);
  byId('sign-out').hidden = storedToken() === null;
  void poll(view, ownGeneration);
}

/** Asks the API whether `token` (or none) is accepted: true, false on a 401, or throws for anything else. */
async function accepted(token) {
  try {
    await api('GET', plansPath, { token });
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return false;
    throw error;
  }
}

async function start() {
  byId('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = byId('token').value.trim();
    try {
      if (!(await accepted(token))) {
        showSignIn(
          'The coordinator refused this token (401): check SHARDBRIDGE_API_TOKEN of the coordinator.',
        );
        return;
      }
    } catch (error) {
      showSignIn(error.message);
      return;
    }
    storeToken(token);
    byId('token').value = '';
    open();
    byId('main').focus();
  });
  byId('sign-out').addEventListener('click', () => {
    forgetToken();
    showSignIn(null);
  });
  window.addEventListener('hashchange', () => {
    if (view) open();
  });
  try {
    const token = storedToken();
    if (await accepted(token)) return open();
    forgetToken();
    showSignIn(token === null ? null : 'The coordinator refused the stored token (401): sign in again.');
  } catch (error) {
    showSignIn(error.message);
  }
}

void start();
