// Screen #/login.
import { h, fill, field, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { state, flash } from '../state.js?v=__ASSET_VERSION__';
import { go } from '../router.js?v=__ASSET_VERSION__';
import { showError } from '../ui.js?v=__ASSET_VERSION__';

export function renderLogin(view) {
  setTitle(t('login.title'));
  if (state.me) {
    fill(view,
      h('h1', {}, t('login.loggedIn')),
      h('p', {}, t('login.already', { name: state.me.display_name || state.me.username }), h('a', { href: '#/' }, t('login.browse'))));
    return;
  }
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, t('login.submit'));
  const form = h('form', { class: 'panel narrow' },
    field(t('login.username'), username),
    field(t('login.password'), password),
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const res = await api('POST', '/auth/login', { json: { username: username.value.trim(), password: password.value } });
      state.csrf = res?.csrf_token || '';
      state.me = res?.user || (await api('GET', '/me'));
      const next = state.returnTo || '#/';
      state.returnTo = '';
      flash('info', t('login.welcome', { name: state.me.display_name || state.me.username }));
      go(next);
    } catch (err) {
      showError(err);
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  fill(view, h('h1', {}, t('login.title')), form,
    h('p', { class: 'muted' }, t('login.public'), h('a', { href: '#/' }, t('login.browse'))));
}
