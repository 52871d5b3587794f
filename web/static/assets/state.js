// What the screens share for the life of the page.
export const state = {
  me: null, // the logged-in user, or null while browsing anonymously
  csrf: '', // csrf_token from the login answer, used only if the cookie is unreadable
  flash: null, // {kind, text, action?}: a banner to show after the next navigation
  returnTo: '', // where to go after logging in
  xhr: null, // the upload in flight, if any
};

// flash queues a banner for the next screen (shown by the router).
// action ({label, run}) adds a button to it (ui.showBanner).
export function flash(kind, text, action) {
  state.flash = { kind, text, action };
}
