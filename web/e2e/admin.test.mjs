// The administration scenario: an admin (no department yet, so the
// first-run guidance shows) creates a department and a user with a generated
// password, sets a quota, is told why a department with users cannot be
// deleted, disables and re-enables the user, resets its password, finds those
// actions in the audit log and exports it as CSV; then joins a department in
// one click. A dept_admin sees only its department; a member is not allowed.
// English and Chinese, a phone, the accessibility check and screenshots.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

const browser = await launch();

// canLogIn tries a password through the API in a context of its own.
async function canLogIn(username, password) {
  const ctx = await browser.newContext({ baseURL: env('DOCPLAT_URL') });
  try {
    const r = await ctx.request.post('/api/v1/auth/login', { data: { username, password } });
    return r.status() === 200;
  } finally {
    await ctx.close();
  }
}

// banner is the text of the current banner once it says something matching re.
async function banner(page, re) {
  const b = page.locator('#banner .banner-text').filter({ hasText: re });
  await b.waitFor();
  return b.textContent();
}

try {
  const page = await newPage(browser, { locale: 'en-US' });
  await login(page, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'You have no department yet' }).waitFor();
  await page.locator('table.admin-table').getByRole('cell', { name: env('DOCPLAT_TEACHER_NAME') }).waitFor();
  await checkA11y(page, 'admin users');
  await shot(page, 'admin-users-en');

  // A department with a quota set afterwards.
  await page.getByRole('navigation', { name: 'Administration sections' }).getByRole('link', { name: 'Departments' }).click();
  await page.getByRole('heading', { level: 1, name: 'Departments' }).waitFor();
  // The creation form, not the first-run one above it (also "Department
  // name"): that is drawn with the heading, this once the tree has loaded;
  // on a loaded machine "the last such field" was still the first-run one.
  const newDept = page.locator('section.panel').filter({ has: page.getByRole('heading', { level: 2, name: 'New department' }) });
  await newDept.getByLabel('Department name').fill('数学组');
  await newDept.getByRole('button', { name: 'Create department' }).click();
  assert.match(await banner(page, /Created/), /Created 数学组/);
  const maths = page.locator('li.dept').filter({ has: page.locator('.dept-name', { hasText: /^数学组$/ }) });
  await maths.getByText('0 B used, no quota').waitFor();
  await maths.getByText('Change 数学组').click();
  await maths.getByRole('spinbutton').fill('10');
  await maths.getByRole('button', { name: 'Save changes' }).click();
  await banner(page, /Saved 数学组/);
  await maths.getByText('0 B of 10 MB (0%)').waitFor();
  assert.equal(await maths.getByRole('img', { name: '0 B of 10 MB (0%)' }).count(), 1, 'the usage bar is named by its figures');

  // A sub-department sits under its parent in the tree.
  await newDept.getByLabel('Department name').fill('初二数学');
  await newDept.getByLabel('Parent department').selectOption({ label: '数学组' });
  await newDept.getByRole('button', { name: 'Create department' }).click();
  await banner(page, /Created 初二数学/);
  assert.deepEqual(await page.locator('li.dept .dept-name').allTextContents(), ['数学组', '初二数学', env('DOCPLAT_DEPARTMENT_NAME')]);
  assert.equal(await page.locator('li.dept.depth-1 .dept-name').textContent(), '初二数学');

  // A department with users cannot go: the 409 is explained.
  const chinese = page.locator('li.dept').filter({ has: page.locator('.dept-name', { hasText: new RegExp(`^${env('DOCPLAT_DEPARTMENT_NAME')}$`) }) });
  await chinese.getByText(`Change ${env('DOCPLAT_DEPARTMENT_NAME')}`).click();
  page.once('dialog', (d) => d.accept());
  await chinese.getByRole('button', { name: 'Delete department' }).click();
  assert.match(await banner(page, /cannot be deleted/), /while it has users, documents or sub-departments/);
  await page.getByRole('heading', { level: 1, name: 'Departments' }).focus();
  await checkA11y(page, 'admin departments');
  await shot(page, 'admin-departments-en');

  // A user, with a generated password shown once.
  await page.getByRole('link', { name: 'Users' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  const create = page.locator('section.panel').filter({ has: page.getByRole('heading', { name: 'New user' }) });
  await create.getByLabel('Username', { exact: true }).fill('student1');
  await create.getByLabel('Display name').fill('李同学');
  await create.getByRole('button', { name: 'Generate' }).click();
  await create.getByLabel('Role').selectOption('reader');
  await create.getByLabel('Department').selectOption({ label: '数学组' });
  await create.getByRole('button', { name: 'Create user' }).click();
  const firstPassword = (await create.locator('.once .secret').textContent()).trim();
  assert.equal(firstPassword.length, 16);
  assert.ok(await canLogIn('student1', firstPassword), 'the generated password works');

  // Search, then disable and enable.
  await page.getByRole('searchbox', { name: 'Search users' }).fill('李');
  await page.getByRole('searchbox', { name: 'Search users' }).press('Enter');
  await page.getByText('1 user matching “李”').waitFor();
  const row = page.locator('table.admin-table tbody tr');
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /student1李同学reader数学组active/);
  await page.getByRole('button', { name: 'Edit student1' }).click();
  await page.getByRole('heading', { level: 2, name: 'Edit student1' }).waitFor();
  await page.getByRole('button', { name: 'Disable account' }).click();
  await banner(page, /Disabled student1/);
  await row.filter({ hasText: 'disabled' }).waitFor();
  assert.ok(!(await canLogIn('student1', firstPassword)), 'a disabled account cannot log in');
  await page.getByRole('button', { name: 'Enable account' }).click();
  await banner(page, /Enabled student1/);
  await row.filter({ hasText: 'active' }).waitFor();

  // Reset the password with a generated one.
  const editor = page.locator('section.panel').filter({ has: page.getByRole('heading', { name: 'Edit student1' }) });
  await editor.getByRole('button', { name: 'Generate' }).click();
  await editor.getByRole('button', { name: 'Set password' }).click();
  await banner(page, /The password of student1 was changed/);
  const secondPassword = (await editor.locator('.once .secret').textContent()).trim();
  assert.notEqual(secondPassword, firstPassword);
  assert.ok(await canLogIn('student1', secondPassword), 'the reset password works');
  assert.ok(!(await canLogIn('student1', firstPassword)), 'the old password no longer does');
  await checkA11y(page, 'admin user editor', { focus: false });
  await shot(page, 'admin-user-edit-en');

  // The audit log: the admin's changes to student1, and the CSV export.
  const student = (await (await page.request.get('/api/v1/admin/users?q=student1')).json()).items[0];
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  await page.getByLabel('Who').fill('admin');
  await page.getByLabel('Action').selectOption('user.update');
  await page.getByLabel('Target id').fill(student.id);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByText('3 entries').waitFor(); // disabled, enabled, password
  const details = await page.locator('table.admin-table tbody').textContent();
  assert.match(details, /disabled/, 'the detail names the change');
  await page.getByLabel('Action').selectOption('');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByText('4 entries').waitFor(); // and the creation
  assert.match(await page.locator('table.admin-table tbody').textContent(), /user created/);
  await checkA11y(page, 'admin audit');
  await shot(page, 'admin-audit-en');
  const csvLink = page.getByRole('link', { name: 'Export as CSV' });
  const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
  assert.equal(download.suggestedFilename(), 'audit.csv');
  const downloaded = await readFile(await download.path(), 'utf8');
  // The same request as the browser's download, to read its headers.
  const res = await page.request.get(await csvLink.getAttribute('href'));
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/csv/);
  const csv = await res.text();
  assert.equal(downloaded, csv);
  assert.match(csv, /^at,actor_id,action,target,ip,department_id,detail/);
  assert.equal(csv.trim().split('\n').length, 5, 'the header and the four filtered entries');

  // In Chinese.
  await page.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
  await page.getByRole('heading', { level: 1, name: '审计日志' }).waitFor();
  await page.getByText('共 4 条记录').waitFor();
  await page.getByRole('cell', { name: '创建用户' }).waitFor();
  await checkA11y(page, 'admin audit (zh-CN)', { focus: false });
  await shot(page, 'admin-audit-zh');
  await page.getByRole('link', { name: '部门', exact: true }).click();
  await page.getByText('已用 0 B，配额 10 MB（0%）').waitFor();
  await checkA11y(page, 'admin departments (zh-CN)');
  await shot(page, 'admin-departments-zh');

  // First run: create a department and join it in one click.
  await page.locator('section.first-run').getByLabel('部门名称').fill('校长办公室');
  await page.getByRole('button', { name: '创建部门并加入' }).click();
  await banner(page, /你已加入部门“校长办公室”/);
  assert.equal(await page.getByRole('heading', { name: '你还没有所属部门' }).count(), 0, 'the guidance is gone');
  const me = await (await page.request.get('/api/v1/me')).json();
  assert.ok(me.department_id, 'the admin has a department');
  await page.getByRole('combobox', { name: '语言' }).selectOption('en');

  // On a phone.
  const phone = await newPage(browser, { locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  await login(phone, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  await phone.goto('/#/admin');
  await phone.getByRole('heading', { level: 1, name: '用户' }).waitFor();
  await phone.locator('table.admin-table').waitFor();
  await phone.goto('/#/admin/users?q=student');
  await phone.getByText('共 1 个用户 匹配“student”').waitFor();
  await checkA11y(phone, 'admin users (phone)');
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling of the page');
  await shot(phone, 'admin-users-phone');

  // The dark theme passes the same contrast check.
  const dark = await newPage(browser, { locale: 'en-US', colorScheme: 'dark' });
  await login(dark, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  for (const [tab, heading] of [['departments', 'Departments'], ['audit', 'Audit log'], ['users', 'Users']]) {
    await dark.goto(`/#/admin/${tab}`);
    await dark.getByRole('heading', { level: 1, name: heading }).waitFor();
    await dark.locator('.dept, table.admin-table').first().waitFor();
    await checkA11y(dark, `admin ${tab} (dark)`);
  }
  await dark.getByRole('button', { name: 'Edit student1' }).click();
  await checkA11y(dark, 'admin user editor (dark)', { focus: false });
  await shot(dark, 'admin-users-dark');

  // A dept_admin of the seeded department sees its department only.
  const csrf = (await page.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';
  const deptList = (await (await page.request.get('/api/v1/admin/departments?page_size=100')).json()).items;
  const seeded = deptList.find((d) => d.name === env('DOCPLAT_DEPARTMENT_NAME'));
  const made = await page.request.post('/api/v1/admin/users', {
    headers: { 'X-CSRF-Token': csrf },
    data: { username: 'head', password: 'head-password-1', display_name: '张主任', role: 'dept_admin', department_id: seeded.id },
  });
  assert.equal(made.status(), 201, await made.text());
  const head = await newPage(browser, { locale: 'en-US' });
  await login(head, 'head', 'head-password-1');
  await head.getByRole('link', { name: 'Administration' }).click();
  await head.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  await head.locator('table.admin-table').getByRole('cell', { name: env('DOCPLAT_TEACHER_NAME') }).waitFor();
  assert.deepEqual(await head.locator('table.admin-table tbody td:first-child').allTextContents(), ['head', env('DOCPLAT_TEACHER')],
    'a dept_admin lists its department only');
  assert.equal(await head.getByRole('heading', { name: 'You have no department yet' }).count(), 0);
  assert.deepEqual(await head.getByLabel('Department').last().locator('option').allTextContents(), [env('DOCPLAT_DEPARTMENT_NAME')]);
  await checkA11y(head, 'admin users (dept_admin)');
  await shot(head, 'admin-users-dept-admin');
  await head.getByRole('link', { name: 'Departments' }).click();
  await head.getByText('Only administrators create').waitFor();
  assert.deepEqual(await head.locator('.dept-name').allTextContents(), [env('DOCPLAT_DEPARTMENT_NAME')]);
  await head.getByRole('link', { name: 'Audit log' }).click();
  await head.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  await head.locator('table.admin-table').waitFor();
  const seen = await head.locator('table.admin-table tbody').textContent();
  assert.ok(!seen.includes(student.id), 'a dept_admin does not see another department\'s entries');
  await checkA11y(head, 'admin audit (dept_admin)');
  await shot(head, 'admin-audit-dept-admin');

  // A member: no entry in the navigation, and "not allowed" by address.
  const member = await newPage(browser, { locale: 'en-US' });
  await login(member, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  assert.equal(await member.getByRole('link', { name: 'Administration' }).count(), 0);
  await member.goto('/#/admin/audit');
  await member.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
  await checkA11y(member, 'admin (member)');
  await shot(member, 'admin-not-allowed');
  console.log('ok');
} finally {
  await browser.close();
}
