// Sign in with an admin key. The key is checked against GET /v2/models before it is kept.

import { api } from '../api.js';
import { h } from '../dom.js';
import { field, secretInput } from '../forms.js';
import { signIn } from '../session.js';

function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/models';
}

export async function render({ main, query, navigate }) {
  const secret = secretInput({ placeholder: 'rg-…' });
  secret.input.autocomplete = 'off';
  secret.input.dataset.autofocus = '';
  const keyField = field({
    name: 'admin_key',
    label: 'Admin key',
    control: secret.input,
    wrapper: secret.el,
    required: true,
    hint: 'Kept in this browser tab only, and removed when you sign out or close the tab.',
  });
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'button button-primary button-block' }, 'Sign in');

  const form = h('form', { class: 'sign-in-form', novalidate: true }, keyField.el, submit, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = secret.input.value.trim();
    if (!key) {
      keyField.setError('Enter an admin key.');
      secret.input.focus();
      return;
    }
    keyField.setError('');
    submit.disabled = true;
    status.textContent = 'Checking the key…';
    try {
      await api('/v2/models', { key, expectUnauthorized: true });
      signIn(key);
      status.textContent = '';
      navigate(safeNext(query.get('next')), { replace: true });
    } catch (error) {
      status.textContent = '';
      const message = error.status === 401
        ? 'This key was not accepted. Check that you copied the whole admin key.'
        : error.message;
      keyField.setError(message);
      secret.input.focus();
    } finally {
      submit.disabled = false;
    }
  });

  main.append(h('div', { class: 'sign-in-card' },
    h('div', { class: 'brand brand-large' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'rg'),
      h('span', null, 'relaygate ', h('span', { class: 'brand-sub' }, 'Studio'))),
    h('h1', { tabindex: '-1' }, 'Sign in'),
    h('p', { class: 'subtitle' }, 'Use an admin key of this relaygate server: ',
      h('code', null, 'relaygate init'), ' prints a workspace’s first one, and ',
      h('code', null, 'relaygate keys create --workspace <name> --role admin'), ' makes more.'),
    form));
}
