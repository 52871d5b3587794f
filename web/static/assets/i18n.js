// Every string the UI shows, in English and Simplified Chinese, and the
// formatting of dates and sizes for the chosen language. A screen never
// writes a user-visible string itself: it calls t(key, vars).
//
// Adding a string: add the key to BOTH tables below (web_test.go fails when
// a key is missing from one of them or a t() call names no key). A value is a
// string with {name} placeholders, or a function of the vars for plurals.

export const LANGS = [['zh-CN', '中文'], ['en', 'English']];
const STORAGE_KEY = 'docplat.lang';

const en = {
  'app.loading': 'Loading docplat…',
  'app.skip': 'Skip to content',
  'app.language': 'Language',
  'nav.main': 'Main',
  'nav.documents': 'Documents',
  'nav.upload': 'Upload',
  'user.guest': 'Browsing as guest',
  'user.login': 'Log in',
  'user.logout': 'Log out',
  'user.signedIn': 'Signed in',
  'user.role': 'Role',
  'role.admin': 'admin',
  'role.dept_admin': 'department admin',
  'role.member': 'member',
  'role.reader': 'reader',
  'title.suffix': '{title} – docplat',
  'common.loading': 'Loading…',
  'common.dismiss': 'Dismiss',
  'common.cancel': 'Cancel',
  'common.untitled': 'Untitled',
  'common.you': 'You',
  'common.backToDocuments': 'Back to documents',
  'common.tags': 'Tags',
  'common.tagsHint': 'Separate tags with commas.',
  'common.visibility': 'Visibility',
  'common.size': 'Size',
  'common.file': 'File',
  'common.title': 'Title',
  'common.description': 'Description',
  'common.chooseFile': 'Choose a file to upload.',
  'vis.private': 'Private (me and people I share with)',
  'vis.department': 'Department',
  'vis.public': 'Public (anyone, even logged out)',
  'vis.short.private': 'private',
  'vis.short.department': 'department',
  'vis.short.public': 'public',
  'vis.short.unknown': 'unknown',
  'sort.relevance': 'Relevance',
  'sort.created_at': 'Newest',
  'sort.views': 'Most viewed',
  'sort.label': 'Sort by',
  'err.400': 'The request was not accepted.',
  'err.401': 'You need to log in to do that.',
  'err.403': 'You are not allowed to do that.',
  'err.404': 'Not found.',
  'err.409': 'The request conflicts with the current state (quota exceeded or a concurrent change).',
  'err.412': 'The document changed since you loaded it.',
  'err.413': 'The file is too large.',
  'err.415': 'This file type is not accepted.',
  'err.429': 'Too many requests. Please wait a moment and try again.',
  'err.502': 'The server is unreachable right now (bad gateway).',
  'err.503': 'The service is temporarily unavailable.',
  'err.504': 'The server took too long to answer.',
  'err.status': 'The server answered with status {status}.',
  'err.sessionEnded': '{message}. Your session has ended; please log in again.',
  'err.retryIn': '{message}. Try again in {seconds} s.',
  'err.busyRetrying': 'The server is busy right now; trying again in {seconds} s…',
  'err.network': 'Could not reach the server. Check your connection and try again.',
  'err.badResponse': 'The server sent an answer this page cannot read.',
  'err.uploadLost': 'The upload failed: the connection to the server was lost. If the file is very large, the server may have refused it.',
  'err.uploadCancelled': 'Upload cancelled.',
  'err.loginCheck': 'Could not check your login: {message}',
  'progress.label': 'Upload progress',
  'progress.processing': '100% — processing…',
  'notFound.title': 'Not found',
  'notFound.page': 'Page not found',
  'login.title': 'Log in',
  'login.loggedIn': 'Logged in',
  'login.already': 'You are logged in as {name}. ',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'login.welcome': 'Welcome, {name}.',
  'login.public': 'Public documents can be browsed without logging in. ',
  'login.browse': 'Browse documents',
  'logout.done': 'You are logged out.',
  'list.title': 'Documents',
  'list.results': 'Search results',
  'list.search': 'Search',
  'list.searchPlaceholder': 'Search titles, tags and text…',
  'list.tag': 'Tag',
  'list.tagLabel': 'Filter by tag',
  'list.submit': 'Search',
  'list.none': 'No results to show.',
  'list.count': (v) => `${v.count} document${v.count === 1 ? '' : 's'}`,
  'list.matching': 'matching “{q}”',
  'list.tagged': 'tagged “{tag}”',
  'list.and': ' and ',
  'list.showing': ' · showing {from}–{to}',
  'list.clear': 'Clear',
  'list.pastEnd': 'This page is past the end of the results.',
  'list.noMatch': 'Nothing matches. Try other words or clear the filters.',
  'list.empty': 'No documents yet. Upload the first one.',
  'list.emptyGuest': 'No public documents yet. Log in to see more.',
  'list.pages': 'Pages',
  'list.prev': '← Previous',
  'list.next': 'Next →',
  'list.page': 'Page {page} of {pages}',
  'list.updated': 'Updated ',
  'upload.title': 'Upload',
  'upload.heading': 'Upload a document',
  'upload.needLogin': 'You need to {login} to upload documents.',
  'upload.needLoginLink': 'log in',
  'upload.titleHint': 'Defaults to the file name.',
  'upload.tagsPlaceholder': 'contract, 2024',
  'upload.submit': 'Upload',
  'upload.empty': 'The file is empty.',
  'upload.done': 'Uploaded “{title}”.',
  'upload.leave': 'An upload is in progress. Leave this page and cancel it?',
  'doc.title': 'Document',
  'doc.notFound': 'Document not found',
  'doc.notFoundText': 'It does not exist, or you are not allowed to see it.',
  'doc.loginToSee': ' to see documents shared with you.',
  'doc.back': '← Documents',
  'doc.download': 'Download',
  'doc.details': 'Details',
  'doc.preview': 'Preview',
  'doc.versions': 'Versions',
  'doc.type': 'Type',
  'doc.version': 'Version',
  'doc.owner': 'Owner',
  'doc.department': 'Department',
  'doc.created': 'Created',
  'doc.updated': 'Updated',
  'doc.sha256': 'SHA-256',
  'preview.empty': 'The file is empty.',
  'preview.loading': 'Loading preview…',
  'preview.loadingImage': 'Loading image…',
  'preview.unavailable': 'Preview unavailable: {message}',
  'preview.none': 'No preview for {mime}. Use Download to open it.',
  'preview.noneType': 'this type of file',
  'preview.badImage': 'This image cannot be displayed by the browser. Use Download to open it.',
  'versions.loading': 'Loading versions…',
  'versions.none': 'No versions recorded.',
  'versions.item': 'Version {n}',
  'versions.current': 'current',
  'versions.by': 'by {name}',
  'versions.byYou': 'by you',
  'versions.newest': 'Showing the newest {n} of {total} versions.',
  'versions.error': 'Could not load versions: {message}',
  'manage.title': 'Manage',
  'manage.newVersion': 'New version',
  'manage.replaces': 'Replaces version {n}; older versions stay available.',
  'manage.uploadVersion': 'Upload new version',
  'manage.uploaded': 'Uploaded version {n}.',
  'manage.changed': 'This document was changed by someone else since you opened it. It has been reloaded: check the current state and try again.',
  'manage.save': 'Save changes',
  'manage.saved': 'Changes saved.',
  'manage.nothing': 'Nothing to save: no field changed.',
  'manage.delete': 'Delete document',
  'manage.deleteHint': 'Deletes every version, grant and share link.',
  'manage.confirmDelete': 'Delete “{title}” and all its versions? This cannot be undone.',
  'manage.thisDocument': 'this document',
  'manage.deleted': 'Deleted “{title}”.',
  'conflict.title': 'Changed by someone else',
  'conflict.text': 'Someone saved this document after you opened it. Your changes are still in the form; their version is shown here. Save again to replace theirs with yours, or take theirs.',
  'conflict.takeTheirs': 'Use their version',
  'conflict.saveMine': 'Your next save replaces their version.',
  'names.unknown': 'Unknown',
  // ---- preview panel (screens/preview.js) ----
  'preview.charset': 'Encoding: {charset}',
  'preview.cut': 'Only the beginning of this {size} file is shown. Download it for the whole file.',
  'preview.unreadable': 'This PDF cannot be previewed: it is damaged or password-protected. Use Download to open it.',
  'preview.busy': 'The server is busy rendering previews.',
  'preview.retry': 'Try again',
  'preview.reason': 'Reason: {reason}',
  'preview.noPages': 'This PDF has no pages to show.',
  'preview.pages': 'PDF pages',
  'preview.prevPage': 'Previous page',
  'preview.nextPage': 'Next page',
  'preview.pageOf': 'Page {n} of {total}',
  'preview.badPage': 'This page cannot be displayed. Use Download to open the PDF.',
  'preview.task': 'Task',
  // ---- end of the preview panel ----
};

const zh = {
  'app.loading': '正在加载 docplat…',
  'app.skip': '跳到正文',
  'app.language': '语言',
  'nav.main': '主导航',
  'nav.documents': '文档',
  'nav.upload': '上传',
  'user.guest': '以访客身份浏览',
  'user.login': '登录',
  'user.logout': '退出登录',
  'user.signedIn': '已登录',
  'user.role': '角色',
  'role.admin': '管理员',
  'role.dept_admin': '部门管理员',
  'role.member': '成员',
  'role.reader': '读者',
  'title.suffix': '{title} – docplat',
  'common.loading': '加载中…',
  'common.dismiss': '关闭',
  'common.cancel': '取消',
  'common.untitled': '无标题',
  'common.you': '你',
  'common.backToDocuments': '返回文档列表',
  'common.tags': '标签',
  'common.tagsHint': '多个标签用逗号分隔。',
  'common.visibility': '可见范围',
  'common.size': '大小',
  'common.file': '文件',
  'common.title': '标题',
  'common.description': '描述',
  'common.chooseFile': '请选择要上传的文件。',
  'vis.private': '私有（仅自己和被分享的人）',
  'vis.department': '本部门',
  'vis.public': '公开（任何人，无需登录）',
  'vis.short.private': '私有',
  'vis.short.department': '部门',
  'vis.short.public': '公开',
  'vis.short.unknown': '未知',
  'sort.relevance': '相关度',
  'sort.created_at': '最新',
  'sort.views': '最多浏览',
  'sort.label': '排序方式',
  'err.400': '请求未被接受。',
  'err.401': '需要登录才能执行此操作。',
  'err.403': '你没有执行此操作的权限。',
  'err.404': '未找到。',
  'err.409': '请求与当前状态冲突（超出配额或有并发修改）。',
  'err.412': '文档在你加载之后已被修改。',
  'err.413': '文件太大。',
  'err.415': '不接受此类型的文件。',
  'err.429': '请求过于频繁，请稍候再试。',
  'err.502': '暂时无法连接服务器（网关错误）。',
  'err.503': '服务暂时不可用。',
  'err.504': '服务器响应超时。',
  'err.status': '服务器返回状态 {status}。',
  'err.sessionEnded': '{message}。登录已失效，请重新登录。',
  'err.retryIn': '{message}。请在 {seconds} 秒后重试。',
  'err.busyRetrying': '服务器繁忙，{seconds} 秒后自动重试…',
  'err.network': '无法连接服务器，请检查网络后重试。',
  'err.badResponse': '服务器的回答无法识别。',
  'err.uploadLost': '上传失败：与服务器的连接中断。如果文件很大，可能被服务器拒绝。',
  'err.uploadCancelled': '已取消上传。',
  'err.loginCheck': '无法确认登录状态：{message}',
  'progress.label': '上传进度',
  'progress.processing': '100% — 处理中…',
  'notFound.title': '未找到',
  'notFound.page': '页面不存在',
  'login.title': '登录',
  'login.loggedIn': '已登录',
  'login.already': '你已以 {name} 的身份登录。',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.welcome': '欢迎，{name}。',
  'login.public': '无需登录即可浏览公开文档。',
  'login.browse': '浏览文档',
  'logout.done': '你已退出登录。',
  'list.title': '文档',
  'list.results': '搜索结果',
  'list.search': '搜索',
  'list.searchPlaceholder': '搜索标题、标签和正文…',
  'list.tag': '标签',
  'list.tagLabel': '按标签筛选',
  'list.submit': '搜索',
  'list.none': '没有可显示的结果。',
  'list.count': (v) => `共 ${v.count} 个文档`,
  'list.matching': '匹配“{q}”',
  'list.tagged': '标签为“{tag}”',
  'list.and': '，',
  'list.showing': ' · 显示第 {from}–{to} 个',
  'list.clear': '清除',
  'list.pastEnd': '此页超出了结果范围。',
  'list.noMatch': '没有匹配的文档。请换个关键词或清除筛选条件。',
  'list.empty': '还没有文档。上传第一个吧。',
  'list.emptyGuest': '还没有公开文档。登录后可以看到更多。',
  'list.pages': '分页',
  'list.prev': '← 上一页',
  'list.next': '下一页 →',
  'list.page': '第 {page} 页，共 {pages} 页',
  'list.updated': '更新于 ',
  'upload.title': '上传',
  'upload.heading': '上传文档',
  'upload.needLogin': '需要{login}才能上传文档。',
  'upload.needLoginLink': '登录',
  'upload.titleHint': '默认为文件名。',
  'upload.tagsPlaceholder': '合同，2024',
  'upload.submit': '上传',
  'upload.empty': '文件是空的。',
  'upload.done': '已上传“{title}”。',
  'upload.leave': '正在上传。离开此页面并取消上传吗？',
  'doc.title': '文档',
  'doc.notFound': '文档不存在',
  'doc.notFoundText': '文档不存在，或你没有查看权限。',
  'doc.loginToSee': '后可以查看分享给你的文档。',
  'doc.back': '← 文档列表',
  'doc.download': '下载',
  'doc.details': '详细信息',
  'doc.preview': '预览',
  'doc.versions': '版本',
  'doc.type': '类型',
  'doc.version': '版本',
  'doc.owner': '所有者',
  'doc.department': '部门',
  'doc.created': '创建时间',
  'doc.updated': '更新时间',
  'doc.sha256': 'SHA-256',
  'preview.empty': '文件是空的。',
  'preview.loading': '正在加载预览…',
  'preview.loadingImage': '正在加载图片…',
  'preview.unavailable': '无法预览：{message}',
  'preview.none': '{mime} 无法预览，请下载后打开。',
  'preview.noneType': '此类型的文件',
  'preview.badImage': '浏览器无法显示此图片，请下载后打开。',
  'versions.loading': '正在加载版本…',
  'versions.none': '没有版本记录。',
  'versions.item': '第 {n} 版',
  'versions.current': '当前',
  'versions.by': '由 {name} 上传',
  'versions.byYou': '由你上传',
  'versions.newest': '显示最新的 {n} 个版本（共 {total} 个）。',
  'versions.error': '无法加载版本：{message}',
  'manage.title': '管理',
  'manage.newVersion': '新版本',
  'manage.replaces': '替换第 {n} 版；旧版本仍然保留。',
  'manage.uploadVersion': '上传新版本',
  'manage.uploaded': '已上传第 {n} 版。',
  'manage.changed': '此文档在你打开后已被他人修改，页面已重新加载：请查看当前内容后重试。',
  'manage.save': '保存修改',
  'manage.saved': '已保存修改。',
  'manage.nothing': '没有需要保存的修改。',
  'manage.delete': '删除文档',
  'manage.deleteHint': '将删除所有版本、授权和分享链接。',
  'manage.confirmDelete': '删除“{title}”及其所有版本？此操作无法撤销。',
  'manage.thisDocument': '此文档',
  'manage.deleted': '已删除“{title}”。',
  'conflict.title': '已被他人修改',
  'conflict.text': '在你打开之后，有人保存了此文档。你的修改仍保留在表单中，对方的版本显示在这里。再次保存将用你的版本覆盖，或者采用对方的版本。',
  'conflict.takeTheirs': '采用对方的版本',
  'conflict.saveMine': '再次保存将覆盖对方的版本。',
  'names.unknown': '未知',
  // ---- preview panel (screens/preview.js) ----
  'preview.charset': '编码：{charset}',
  'preview.cut': '仅显示此文件（{size}）的开头部分，下载可查看完整文件。',
  'preview.unreadable': '无法预览此 PDF：文件已损坏或受密码保护。请下载后打开。',
  'preview.busy': '服务器正忙于生成预览。',
  'preview.retry': '重试',
  'preview.reason': '原因：{reason}',
  'preview.noPages': '此 PDF 没有可显示的页面。',
  'preview.pages': 'PDF 页面',
  'preview.prevPage': '上一页',
  'preview.nextPage': '下一页',
  'preview.pageOf': '第 {n} 页，共 {total} 页',
  'preview.badPage': '无法显示此页，请下载 PDF 后打开。',
  'preview.task': '任务',
  // ---- end of the preview panel ----
};

export const STRINGS = { en, 'zh-CN': zh };

// pickLanguage: the remembered choice, else the first of the browser's
// languages docplat speaks, else English.
export function pickLanguage(stored, browserLangs) {
  if (stored && STRINGS[stored]) return stored;
  for (const l of browserLangs || []) {
    const tag = String(l).toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

function stored() {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) || '';
  } catch {
    return ''; // storage disabled: follow the browser
  }
}

let lang = pickLanguage(stored(), globalThis.navigator?.languages);

export const currentLang = () => lang;

// setLanguage switches and remembers the language; the caller re-renders.
export function setLanguage(l) {
  if (!STRINGS[l]) return;
  lang = l;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, l);
  } catch {
    // not remembered; still switched for this page
  }
  if (globalThis.document) document.documentElement.lang = l;
}

// t returns the string for key in the current language with {vars} filled in.
export function t(key, vars = {}) {
  const v = STRINGS[lang][key] ?? en[key];
  if (v === undefined) return key;
  if (typeof v === 'function') return v(vars);
  return v.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// humanSize is a byte count in binary units, its number in the language's format.
export function humanSize(n) {
  if (n == null || n === '') return '—';
  n = Number(n);
  if (!Number.isFinite(n) || n < 0) return '—';
  const num = (x, digits) => new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(x);
  if (n < 1024) return `${num(n, 0)} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < units.length - 1);
  return `${n < 10 ? num(n, 1) : num(Math.round(n), 0)} ${units[i]}`;
}

// fmtTime is a timestamp as the language writes dates, in the browser's zone.
export function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
