// One dataset: its datapoints (add, edit, delete), an upload of a CSV or JSONL file checked and
// previewed before anything is stored, datapoints made from recorded router calls, exports.

import { api, query, send } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { DASH, plural } from '../format.js';
import { field, selectInput, textArea, textInput } from '../forms.js';
import { clearOnEdit, contentText, datapointText, enabledModels, exportButtons, fieldFor, sendFile, snippet } from '../lab-shared.js';
import { announce, confirmDialog, emptyState, notice, pageHeader, setFlash, tabs } from '../ui.js';

const PAGE = 50;
const FORMATS = [['', 'Detect from the file name'], ['csv', 'CSV'], ['jsonl', 'JSONL']];
const SKIP_WORDS = {
  body_not_logged: 'body not logged', body_cut: 'logged body cut short', not_json: 'body not JSON', not_chat: 'not a chat request',
  messages_not_supported: 'messages of a kind datasets do not hold',
};

function json(value) {
  return value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
}

function inputsText(inputs) {
  if (!inputs || typeof inputs !== 'object' || !Object.keys(inputs).length) return h('span', { class: 'muted' }, 'None');
  return h('span', { class: 'lab-inputs' }, Object.entries(inputs).map(([name, value]) => h('code', null,
    `${name}=${snippet(typeof value === 'string' ? value : JSON.stringify(value), 40)}`)));
}

function previewTable(points, caption) {
  return h('div', { class: 'table-wrap lab-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'table table-compact' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, ['#', 'Question', 'Inputs', 'Expected output'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, points.map((point, index) => h('tr', null,
        h('td', { class: 'num' }, String(index + 1)),
        h('td', { class: 'lab-text-cell' }, snippet(datapointText(point), 120) || DASH),
        h('td', null, inputsText(point.inputs)),
        h('td', { class: 'lab-text-cell' }, point.expected_output ? snippet(point.expected_output, 80) : DASH))))));
}

/** A dialog to add or change one datapoint; resolves with the stored datapoint or null. */
function datapointDialog(dataset, point) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const fields = {
      messages: field({
        name: 'messages', label: 'Messages (JSON)', control: textArea({ rows: 6, value: point ? json(point.messages) : '[\n  {"role": "user", "content": ""}\n]' }),
        hint: 'A list of {"role", "content"}: what the target is sent.',
      }),
      inputs: field({ name: 'inputs', label: 'Inputs (JSON object)', control: textArea({ rows: 2, value: point ? json(point.inputs) : '' }), hint: 'Variables for a deployment’s {{template}}.' }),
      expected_output: field({ name: 'expected_output', label: 'Expected output', control: textArea({ rows: 2, value: point?.expected_output ?? '' }), hint: 'The reference answer evaluators compare with.' }),
    };
    for (const item of Object.values(fields)) item.control.classList.add('input-mono');
    clearOnEdit(Object.values(fields));
    const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const save = h('button', { type: 'submit', class: 'button button-primary' }, point ? 'Save datapoint' : 'Add datapoint');
    const form = h('form', { method: 'dialog', class: 'lab-dialog-form', novalidate: true },
      Object.values(fields).map((item) => item.el), status, h('div', { class: 'dialog-actions' }, cancel, save));
    const dialog = h('dialog', { class: 'dialog lab-dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, point ? 'Edit datapoint' : 'Add a datapoint'), form);
    let answer = null;
    const opener = document.activeElement;
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(answer);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = {};
      let bad = null;
      for (const name of ['messages', 'inputs']) {
        const text = fields[name].control.value.trim();
        fields[name].setError('');
        if (!text) {
          body[name] = null;
          continue;
        }
        try {
          body[name] = JSON.parse(text);
        } catch (error) {
          fields[name].setError(`This is not JSON: ${error.message}`);
          bad ??= fields[name];
        }
      }
      const expected = fields.expected_output.control.value;
      body.expected_output = expected.trim() ? expected : null;
      fields.expected_output.setError('');
      if (bad) {
        bad.control.focus();
        return;
      }
      const base = `/v2/datasets/${encodeURIComponent(dataset._id)}/datapoints`;
      save.disabled = true;
      status.textContent = 'Saving…';
      try {
        if (point) {
          answer = await api(`${base}/${encodeURIComponent(point._id)}`, { method: 'PATCH', body });
        } else {
          const created = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
          [answer] = await api(base, { method: 'POST', body: [created] });
        }
        dialog.close();
      } catch (error) {
        status.textContent = '';
        const target = fieldFor(fields, error.param);
        if (target) {
          target.setError(error.message);
          target.control.focus();
        } else {
          status.textContent = error.message;
        }
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    fields.messages.control.focus();
  });
}

function datapointsPanel(dataset, { signal, onCount }) {
  const slot = h('div', { class: 'table-wrap table-reserve lab-scroll', tabindex: '0', role: 'region', 'aria-label': 'Datapoints' });
  const errorSlot = h('div', { class: 'error-slot' });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, 'Load more');
  const add = h('button', { type: 'button', class: 'button button-primary' }, 'Add a datapoint');
  let points = [];
  let hasMore = false;
  const base = `/v2/datasets/${encodeURIComponent(dataset._id)}/datapoints`;

  const draw = () => {
    more.hidden = !hasMore;
    if (!points.length) {
      replace(slot, emptyState('No datapoints yet', 'Upload a CSV or JSONL file, take recorded calls from traffic, or add one by hand.'));
      return;
    }
    replace(slot, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, `Datapoints of ${dataset.display_name}`),
      h('thead', null, h('tr', null, ['#', 'Question', 'Inputs', 'Expected output', 'Actions'].map((c) => h('th', { scope: 'col', class: c === 'Actions' ? 'actions-cell' : null }, c)))),
      h('tbody', null, points.map((point, index) => {
        const edit = h('button', { type: 'button', class: 'button button-small', 'aria-label': `Edit datapoint ${index + 1}` }, 'Edit');
        const remove = h('button', { type: 'button', class: 'button button-small button-danger-quiet', 'aria-label': `Delete datapoint ${index + 1}` }, 'Delete');
        edit.addEventListener('click', async () => {
          const saved = await datapointDialog(dataset, point);
          if (!saved) return;
          points[index] = saved;
          draw();
          replace(errorSlot, notice('success', `Datapoint ${index + 1} was saved.`));
        });
        remove.addEventListener('click', async () => {
          const confirmed = await confirmDialog({
            title: `Delete datapoint ${index + 1}?`, message: snippet(datapointText(point), 160) || 'This datapoint has no messages.',
            confirmLabel: 'Delete datapoint', danger: true,
          });
          if (!confirmed) return;
          try {
            await send(`${base}/${encodeURIComponent(point._id)}`, { method: 'DELETE' });
            points.splice(index, 1);
            onCount(-1);
            draw();
            replace(errorSlot, notice('success', `Datapoint ${index + 1} was deleted.`));
          } catch (error) {
            replace(errorSlot, notice('error', `The datapoint was not deleted. ${error.message}`));
          }
        });
        return h('tr', null,
          h('td', { class: 'num' }, String(index + 1)),
          h('td', { class: 'lab-text-cell', title: contentText(point.messages?.at?.(-1)?.content) || undefined }, snippet(datapointText(point), 120) || DASH),
          h('td', null, inputsText(point.inputs)),
          h('td', { class: 'lab-text-cell' }, point.expected_output ? snippet(point.expected_output, 80) : DASH),
          h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' }, edit, remove)));
      }))));
  };

  async function load(next = false) {
    try {
      const after = next && points.length ? points.at(-1)._id : null;
      const page = await api(`${base}${query({ limit: PAGE, starting_after: after })}`, { signal });
      points = next ? [...points, ...(page.data ?? [])] : (page.data ?? []);
      hasMore = Boolean(page.has_more);
      draw();
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(slot, notice('error', `The datapoints could not be loaded. ${error.message}`));
    }
  }
  more.addEventListener('click', () => load(true));
  add.addEventListener('click', async () => {
    const created = await datapointDialog(dataset, null);
    if (!created) return;
    onCount(1);
    replace(errorSlot, notice('success', 'The datapoint was added.'));
    await load();
  });
  const el = h('div', { class: 'lab-panel' },
    h('div', { class: 'section-header lab-section-top' }, h('h2', null, 'Datapoints'), add),
    errorSlot, slot, h('div', { class: 'load-more' }, more));
  replace(slot, h('div', { class: 'loading-block', role: 'status' }, 'Loading datapoints…'));
  return { el, load };
}

function uploadPanel(dataset, { onImported }) {
  const file = h('input', { type: 'file', accept: '.csv,.jsonl,.ndjson,text/csv,application/jsonl', class: 'input lab-file' });
  const fileField = field({
    name: 'file', label: 'CSV or JSONL file', control: file, required: true,
    hint: 'CSV columns: messages (a JSON list), expected_output, input.<name>. JSONL: one {"messages", "inputs", "expected_output"} per line.',
  });
  const formatField = field({ name: 'format', label: 'Format', marked: false, control: selectInput(FORMATS, { value: '' }), hint: 'From .csv, .jsonl or .ndjson.' });
  const result = h('div', { class: 'lab-upload-result', 'aria-live': 'polite' });
  const importButton = h('button', { type: 'button', class: 'button button-primary', hidden: true }, 'Import');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  let checked = null; // {file, format} that passed the dry run

  const formatOf = (chosen) => {
    if (formatField.control.value) return formatField.control.value;
    const name = chosen.name.toLowerCase();
    if (name.endsWith('.csv')) return 'csv';
    if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
    return null;
  };
  const path = (format, dryRun) => `/v2/datasets/${encodeURIComponent(dataset._id)}/import${query({ format, dry_run: dryRun ? 'true' : null })}`;

  const refused = (error) => {
    const lines = error.lines ?? [];
    const listed = lines.length < (error.lineCount ?? 0) ? ` The first ${lines.length} of ${error.lineCount} are listed.` : '';
    replace(result, notice('error', lines.length ? `Nothing was imported: ${plural(error.lineCount ?? lines.length, 'line')} of the file ${error.lineCount === 1 ? 'is' : 'are'} not valid datapoints.${listed} Fix ${error.lineCount === 1 ? 'it' : 'them'} and choose the file again.` : error.message,
      lines.length ? h('ol', { class: 'lab-line-errors', 'aria-label': 'Lines with errors' }, lines.map((line) => h('li', null,
        h('span', { class: 'strong' }, `Line ${line.line}: `), line.message))) : null));
  };

  async function check() {
    checked = null;
    importButton.hidden = true;
    replace(result);
    fileField.setError('');
    const chosen = file.files?.[0];
    if (!chosen) return;
    const format = formatOf(chosen);
    if (!format) {
      fileField.setError('Choose the format: the file name ends neither in .csv nor in .jsonl.');
      formatField.control.focus();
      return;
    }
    status.textContent = `Checking ${chosen.name}…`;
    try {
      const answer = await sendFile(path(format, true), chosen);
      status.textContent = '';
      checked = { file: chosen, format };
      const shown = answer.preview ?? [];
      replace(result,
        notice('success', `${plural(answer.valid, 'datapoint')} ready to import from ${chosen.name}. ${shown.length < answer.valid ? `The first ${shown.length} are shown.` : ''}`),
        shown.length ? previewTable(shown, 'Preview of the file') : null);
      importButton.textContent = `Import ${plural(answer.valid, 'datapoint')}`;
      importButton.hidden = answer.valid === 0;
    } catch (error) {
      status.textContent = '';
      if (error.status === 400 && error.lines) refused(error);
      else fileField.setError(error.message);
    }
  }

  file.addEventListener('change', check);
  formatField.control.addEventListener('change', () => { if (file.files?.length) check(); });
  importButton.addEventListener('click', async () => {
    if (!checked) return;
    importButton.disabled = true;
    status.textContent = 'Importing…';
    try {
      const answer = await sendFile(path(checked.format, false), checked.file);
      status.textContent = '';
      replace(result, notice('success', `${plural(answer.imported, 'datapoint')} imported from ${checked.file.name}.`));
      importButton.hidden = true;
      file.value = '';
      checked = null;
      announce(`${answer.imported} datapoints imported.`);
      onImported(answer.imported);
    } catch (error) {
      status.textContent = '';
      if (error.status === 400 && error.lines) refused(error);
      else replace(result, notice('error', `The file was not imported. ${error.message}`));
    } finally {
      importButton.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload a file'),
    h('p', { class: 'section-description' }, 'The file is checked first and nothing is stored until you import it; a file with any bad line is refused whole, each bad line listed with its number.'),
    h('div', { class: 'grid-2' }, fileField.el, formatField.el),
    status, result, h('div', { class: 'form-actions' }, importButton));
}

function trafficPanel(dataset, { signal, onCreated }) {
  const fields = {
    model: field({ name: 'model', label: 'Model', control: selectInput([], { placeholder: 'Any model' }) }),
    api_key_id: field({ name: 'api_key_id', label: 'API key', control: selectInput([], { placeholder: 'Any key' }) }),
    identity_id: field({ name: 'identity_id', label: 'Identity', control: textInput({ placeholder: 'Any identity' }) }),
    status: field({ name: 'status', label: 'HTTP status', control: textInput({ type: 'number', value: '200', inputmode: 'numeric' }), hint: 'Calls that answered this status.' }),
    from: field({ name: 'from', label: 'From', control: textInput({ type: 'datetime-local' }), hint: 'Empty: 7 days before the end.' }),
    to: field({ name: 'to', label: 'To', control: textInput({ type: 'datetime-local' }), hint: 'Empty: now.' }),
    limit: field({ name: 'limit', label: 'At most', control: textInput({ type: 'number', value: '100', inputmode: 'numeric' }), hint: 'Newest calls first, 1 to 1000.' }),
  };
  clearOnEdit(Object.values(fields));
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Add datapoints from traffic');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { class: 'lab-upload-result' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'traffic-title' },
    h('h2', { id: 'traffic-title' }, 'Create from traffic'),
    h('p', { class: 'section-description' }, 'Recorded router chat calls become datapoints: their messages, and the answer as the expected output. This needs body logging for the workspace (turned on under Logs, or by the server’s RELAYGATE_LOG_BODIES=1); calls made by experiments are left out.'),
    h('div', { class: 'grid-4' }, fields.model.el, fields.api_key_id.el, fields.identity_id.el, fields.status.el),
    h('div', { class: 'grid-4' }, fields.from.el, fields.to.el, fields.limit.el),
    h('div', { class: 'form-actions' }, submit, status), result);

  Promise.all([
    enabledModels(signal, ['chat']).catch(() => []),
    api('/v2/api-keys', { signal }).then((r) => r.data ?? []).catch(() => []),
  ]).then(([models, keys]) => {
    for (const model of models) fields.model.control.append(h('option', { value: model.router_id }, model.router_id));
    for (const key of keys) fields.api_key_id.control.append(h('option', { value: key.id }, `${key.name} (${key.prefix}…)`));
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const item of Object.values(fields)) item.setError('');
    replace(result);
    const number = (name, low, high) => {
      const value = Number(fields[name].control.value);
      if (!Number.isInteger(value) || value < low || value > high) {
        fields[name].setError(`Enter a whole number from ${low} to ${high}.`);
        return null;
      }
      return value;
    };
    const moment = (name) => (fields[name].control.value ? new Date(fields[name].control.value) : null);
    const from = moment('from');
    const to = moment('to');
    const statusCode = number('status', 100, 599);
    const limit = number('limit', 1, 1000);
    if (from && to && from >= to) fields.to.setError('Choose an end after the start.');
    if (from && !to && from >= new Date()) fields.from.setError('Choose a start in the past.');
    const invalid = Object.values(fields).find((item) => item.control.getAttribute('aria-invalid') === 'true');
    if (invalid) {
      invalid.control.focus();
      return;
    }
    const body = { status: statusCode, limit };
    if (from) body.from = from.toISOString();
    if (to) body.to = to.toISOString();
    for (const name of ['model', 'api_key_id', 'identity_id']) {
      const value = fields[name].control.value.trim();
      if (value) body[name] = value;
    }
    submit.disabled = true;
    status.textContent = 'Reading recorded calls…';
    try {
      const answer = await api(`/v2/datasets/${encodeURIComponent(dataset._id)}/from-traffic`, { method: 'POST', body });
      status.textContent = '';
      const skipped = Object.entries(answer.skipped ?? {});
      const skippedText = skipped.length ? ` Skipped: ${skipped.map(([reason, count]) => `${count} (${SKIP_WORDS[reason] ?? reason})`).join(', ')}.` : '';
      replace(result, notice(answer.created ? 'success' : 'info',
        `${plural(answer.created, 'datapoint')} created from ${plural(answer.calls, 'recorded call')}.${skippedText}`));
      if (answer.created) onCreated(answer.created);
    } catch (error) {
      status.textContent = '';
      if (error.code === 'body_logging_off') {
        replace(result, notice('warning', `Body logging is off. ${error.message}`));
        return;
      }
      const target = fieldFor(fields, error.param);
      if (target) {
        target.setError(error.message);
        target.control.focus();
      } else {
        replace(result, notice('error', `No datapoints were created. ${error.message}`));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function render({ main, params, signal, navigate, setTitle }) {
  let dataset;
  try {
    dataset = await api(`/v2/datasets/${encodeURIComponent(params.id)}`, { signal });
  } catch (error) {
    if (error.name === 'AbortError') return;
    main.append(pageHeader('Dataset', { breadcrumb: h('a', { href: '/studio/datasets' }, 'Datasets') }),
      notice('error', error.status === 404 ? 'There is no such dataset in this workspace.' : `The dataset could not be loaded. ${error.message}`));
    return;
  }
  setTitle(dataset.display_name);
  let count = dataset.metadata?.datapoints_count ?? 0;
  const countText = h('span', { class: 'muted' });
  const showCount = () => { countText.textContent = plural(count, 'datapoint'); };
  showCount();
  const errorSlot = h('div', { class: 'error-slot' });
  const remove = h('button', { type: 'button', class: 'button button-danger-quiet' }, 'Delete dataset');
  remove.addEventListener('click', async () => {
    const confirmed = await confirmDialog({
      title: `Delete ${dataset.display_name}?`, message: `Its ${plural(count, 'datapoint')} are deleted with it. Experiments that ran on it keep their results.`,
      confirmLabel: 'Delete dataset', danger: true,
    });
    if (!confirmed) return;
    try {
      await send(`/v2/datasets/${encodeURIComponent(dataset._id)}`, { method: 'DELETE' });
      setFlash('success', `The dataset “${dataset.display_name}” was deleted.`);
      navigate('/datasets');
    } catch (error) {
      replace(errorSlot, notice('error', `The dataset was not deleted. ${error.message}`));
    }
  });
  const exports = exportButtons(`/v2/datasets/${encodeURIComponent(dataset._id)}/export`, dataset.display_name.replace(/[^\w.-]+/g, '-'),
    (message) => replace(errorSlot, notice('error', `The export failed. ${message}`)));
  const onCount = (delta) => { count += delta; showCount(); };
  const points = datapointsPanel(dataset, { signal, onCount });
  const reload = (added) => { onCount(added); points.load(); };
  main.append(
    pageHeader(dataset.display_name, {
      breadcrumb: h('a', { href: '/studio/datasets' }, 'Datasets'),
      actions: [exports, remove],
    }),
    h('div', { class: 'header-meta' }, countText, h('a', { href: `/studio/experiments/_new${query({ dataset: dataset._id })}` }, 'Run an experiment on it')),
    errorSlot,
    tabs([
      { label: 'Datapoints', content: points.el },
      { label: 'Upload', content: uploadPanel(dataset, { onImported: reload }) },
      { label: 'From traffic', content: trafficPanel(dataset, { signal, onCreated: reload }) },
    ], { label: 'Dataset sections' }));
  await points.load();
}
