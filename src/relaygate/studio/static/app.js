// The Studio shell: sign-in gate, navigation, and the path -> page router.
// Each page module exports `render(ctx)`, drawing into ctx.main; ctx.signal aborts its work when
// the user navigates away.

import { onUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { adminKey, keyLabel, signOut } from './session.js';
import { notice, setFlash, takeFlash } from './ui.js';

export const BASE = '/studio';

const ROUTES = [
  { pattern: /^\/sign-in$/, page: 'sign-in', title: 'Sign in', public: true },
  { pattern: /^\/?$/, redirect: '/models' },
  { pattern: /^\/models$/, page: 'models', title: 'Models', nav: 'models' },
  { pattern: /^\/models\/new$/, redirect: '/models/new/openai-like' },
  { pattern: /^\/models\/new\/openai-like$/, page: 'add-model', title: 'Add model', nav: 'models' },
  { pattern: /^\/models\/(?<id>[^/]+)$/, page: 'model-detail', title: 'Model', nav: 'models' },
  { pattern: /^\/models\/(?<id>[^/]+)\/edit$/, page: 'model-detail', title: 'Edit model', nav: 'models', mode: 'edit' },
  { pattern: /^\/deployments$/, page: 'deployments', title: 'Deployments', nav: 'deployments' },
  { pattern: /^\/deployments\/_new$/, page: 'deployment-edit', title: 'New deployment', nav: 'deployments' },
  { pattern: /^\/deployments\/(?<key>[^/]+)$/, page: 'deployment-detail', title: 'Deployment', nav: 'deployments' },
  { pattern: /^\/deployments\/(?<key>[^/]+)\/edit$/, page: 'deployment-edit', title: 'Edit deployment', nav: 'deployments', mode: 'edit' },
  { pattern: /^\/datasets$/, page: 'datasets', title: 'Datasets', nav: 'datasets' },
  { pattern: /^\/datasets\/(?<id>[^/]+)$/, page: 'dataset-detail', title: 'Dataset', nav: 'datasets' },
  { pattern: /^\/evaluators$/, page: 'evaluators', title: 'Evaluators', nav: 'evaluators' },
  { pattern: /^\/evaluators\/(?<id>[^/]+)$/, page: 'evaluator-edit', title: 'Evaluator', nav: 'evaluators' },
  { pattern: /^\/experiments$/, page: 'experiments', title: 'Experiments', nav: 'experiments' },
  { pattern: /^\/experiments\/_new$/, page: 'experiment-new', title: 'New experiment', nav: 'experiments' },
  { pattern: /^\/experiments\/(?<id>[^/]+)$/, page: 'experiment-detail', title: 'Experiment', nav: 'experiments' },
  { pattern: /^\/playground$/, page: 'playground', title: 'Playground', nav: 'playground' },
  { pattern: /^\/keys$/, page: 'keys', title: 'API keys', nav: 'keys' },
  { pattern: /^\/search$/, page: 'search', title: 'Web search', nav: 'search' },
  { pattern: /^\/usage$/, page: 'usage', title: 'Usage', nav: 'usage' },
  { pattern: /^\/logs$/, page: 'logs', title: 'Logs', nav: 'logs' },
  { pattern: /^\/logs\/(?<requestId>[^/]+)$/, page: 'log-detail', title: 'Call', nav: 'logs' },
  { pattern: /^\/spend$/, page: 'spend', title: 'Spend', nav: 'spend' },
  { pattern: /^\/alerts$/, page: 'alerts', title: 'Alerts', nav: 'alerts' },
  { pattern: /^\/audit$/, page: 'audit', title: 'Audit log', nav: 'audit' },
];

// The navigation in three groups: what is routed, how it is judged, how it is run.
const NAV = [
  { id: 'build', label: 'Route', items: [
    { id: 'models', label: 'Models', path: '/models' },
    { id: 'deployments', label: 'Deployments', path: '/deployments' },
    { id: 'playground', label: 'Playground', path: '/playground' },
    { id: 'search', label: 'Web search', path: '/search' },
  ] },
  { id: 'evaluate', label: 'Evaluate', items: [
    { id: 'datasets', label: 'Datasets', path: '/datasets' },
    { id: 'evaluators', label: 'Evaluators', path: '/evaluators' },
    { id: 'experiments', label: 'Experiments', path: '/experiments' },
  ] },
  { id: 'operate', label: 'Operate', items: [
    { id: 'keys', label: 'API keys', path: '/keys' },
    { id: 'usage', label: 'Usage', path: '/usage' },
    { id: 'spend', label: 'Spend', path: '/spend' },
    { id: 'logs', label: 'Logs', path: '/logs' },
    { id: 'alerts', label: 'Alerts', path: '/alerts' },
    { id: 'audit', label: 'Audit log', path: '/audit' },
  ] },
];

let current = null; // { controller, cleanup }
let firstRender = true;

export function navigate(path, { replace: replaceState = false } = {}) {
  const url = path.startsWith(BASE) ? path : BASE + path;
  if (replaceState) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
}

function match(path) {
  for (const entry of ROUTES) {
    const found = entry.pattern.exec(path);
    if (found) return { ...entry, params: found.groups ?? {} };
  }
  return null;
}

function relativePath() {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function sidebar(active) {
  // On a phone the navigation folds into a menu under a one-line header (style.css, max-width 760px).
  const toggle = h('button', { type: 'button', class: 'button button-quiet menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'studio-menu' },
    h('span', { class: 'menu-icon', 'aria-hidden': 'true' }), 'Menu');
  const aside = h('aside', { class: 'sidebar' },
    h('div', { class: 'sidebar-top' },
      h('a', { class: 'brand', href: `${BASE}/models` },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'rg'),
        h('span', null, 'relaygate ', h('span', { class: 'brand-sub' }, 'Studio'))),
      toggle),
    h('div', { class: 'sidebar-menu', id: 'studio-menu' },
      h('nav', { 'aria-label': 'Studio', class: 'nav-groups' }, NAV.map((group) => h('div', { class: 'nav-group' },
        h('p', { class: 'nav-group-label', id: `nav-${group.id}` }, group.label),
        h('ul', { class: 'nav-list', 'aria-labelledby': `nav-${group.id}` }, group.items.map((item) => h('li', null,
          h('a', { href: BASE + item.path, class: 'nav-link', 'aria-current': item.id === active ? 'page' : null }, item.label))))))),
      h('div', { class: 'sidebar-footer' },
        h('p', { class: 'signed-in' }, 'Signed in with ', h('code', null, keyLabel())),
        h('button', { type: 'button', class: 'button button-quiet', onclick: () => doSignOut() }, 'Sign out'))));
  const open = (shown) => {
    aside.classList.toggle('menu-open', shown);
    toggle.setAttribute('aria-expanded', shown ? 'true' : 'false');
  };
  toggle.addEventListener('click', () => open(toggle.getAttribute('aria-expanded') !== 'true'));
  aside.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !aside.classList.contains('menu-open')) return;
    open(false);
    toggle.focus();
  });
  return aside;
}

// A scrolled table says so: `data-scroll="more"` while columns are hidden to the right (style.css
// draws the cue), and a wrap with nothing focusable in it can be scrolled with the keyboard.
function markScrollable(wrap) {
  const hidden = wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft > 2;
  const scrollable = wrap.scrollWidth - wrap.clientWidth > 2;
  if (hidden) wrap.dataset.scroll = 'more';
  else delete wrap.dataset.scroll;
  if (scrollable && !wrap.querySelector('a[href], button, input, select, textarea, [tabindex]')) wrap.tabIndex = 0;
  else if (!scrollable && wrap.getAttribute('tabindex') === '0') wrap.removeAttribute('tabindex');
}

const watchedWraps = new WeakSet();
const wrapSizes = new ResizeObserver((entries) => { for (const entry of entries) markScrollable(entry.target); });

function watchTables(root) {
  for (const wrap of root.querySelectorAll('.table-wrap')) {
    if (!watchedWraps.has(wrap)) {
      watchedWraps.add(wrap);
      wrap.addEventListener('scroll', () => markScrollable(wrap), { passive: true });
      wrapSizes.observe(wrap);
    }
    markScrollable(wrap);
  }
}

let tableCheck = 0;
new MutationObserver(() => {
  cancelAnimationFrame(tableCheck);
  tableCheck = requestAnimationFrame(() => watchTables(document.getElementById('app') ?? document.body));
}).observe(document.getElementById('app') ?? document.body, { childList: true, subtree: true });

function doSignOut(message) {
  signOut();
  if (message) setFlash('error', message);
  else setFlash('info', 'You are signed out. The admin key was removed from this browser tab.');
  navigate('/sign-in');
}

let importRetries = 0; // a failed import is not fetched again under the same URL: each retry asks anew

async function loadPage(name) {
  return import(`./pages/${name}.js${importRetries ? `?retry=${importRetries}` : ''}`);
}

/** The page module could not be fetched: the server is down or unreachable. */
function isImportFailure(error) {
  return error instanceof TypeError && /dynamically imported module|module script|Importing a module/i.test(error.message ?? '');
}

function unreachable(main, title) {
  const retry = h('button', { type: 'button', class: 'button button-primary' }, 'Try again');
  retry.addEventListener('click', () => {
    importRetries += 1;
    route();
  });
  replace(main, h('header', { class: 'page-header' }, h('h1', { tabindex: '-1' }, title)),
    notice('error', `Cannot reach relaygate at ${location.origin}: the ${title} page could not be loaded. Check that the server is running and your connection works, then try again.`,
      h('div', { class: 'form-actions' }, retry)));
}

function notFound(main) {
  replace(main,
    h('header', { class: 'page-header' }, h('h1', { tabindex: '-1' }, 'Page not found')),
    h('p', null, 'There is no Studio page at this address. ', h('a', { href: `${BASE}/models` }, 'Go to Models'), '.'));
}

export async function route() {
  const path = relativePath();
  const found = match(path);
  if (found?.redirect) {
    navigate(found.redirect, { replace: true });
    return;
  }
  if (!adminKey() && !found?.public) {
    const next = path && path !== '/' ? `?next=${encodeURIComponent(path + location.search)}` : '';
    history.replaceState(null, '', `${BASE}/sign-in${next}`);
    route();
    return;
  }
  if (current) {
    current.controller.abort();
    if (typeof current.cleanup === 'function') current.cleanup();
  }
  const controller = new AbortController();
  current = { controller, cleanup: null };

  const app = document.getElementById('app');
  const main = h('main', { id: 'main', class: found?.public ? 'main main-public' : 'main', tabindex: '-1' });
  const flash = takeFlash();
  const flashSlot = h('div', { class: 'flash-slot' }, flash ? notice(flash.kind, flash.message) : null);
  if (found?.public) replace(app, h('div', { class: 'public-layout' }, flashSlot, main));
  else replace(app, h('div', { class: 'layout' }, sidebar(found?.nav), h('div', { class: 'content' }, flashSlot, main)));
  document.title = `${found?.title ?? 'Not found'} · relaygate Studio`;

  if (!found) {
    notFound(main);
  } else {
    const ctx = {
      main,
      params: found.params,
      mode: found.mode ?? null,
      query: new URLSearchParams(location.search),
      signal: controller.signal,
      navigate,
      setTitle: (title) => { document.title = `${title} · relaygate Studio`; },
    };
    try {
      const module = await loadPage(found.page);
      if (controller.signal.aborted) return;
      current.cleanup = await module.render(ctx);
    } catch (error) {
      if (error?.name === 'AbortError' || controller.signal.aborted) return;
      if (isImportFailure(error)) unreachable(main, found.title);
      else replace(main, h('header', { class: 'page-header' }, h('h1', { tabindex: '-1' }, found.title)),
        notice('error', error?.message || 'Something went wrong while showing this page.'));
    }
  }
  if (controller.signal.aborted) return;
  // Move focus to the new page's heading so keyboard and screen-reader users start there.
  if (!firstRender || found?.public) {
    (main.querySelector('[data-autofocus]') ?? main.querySelector('h1') ?? main).focus({ preventScroll: true });
  }
  firstRender = false;
  window.scrollTo(0, 0);
}

function isPlainLeftClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey
    && !event.defaultPrevented;
}

document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
  if (!link || !isPlainLeftClick(event) || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || url.pathname.startsWith(`${BASE}/assets/`)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener('popstate', () => route());

onUnauthorized(() => {
  doSignOut('The admin key was not accepted any more. Sign in again.');
});

route();
