// How a budget reads in the Studio (Keys and Spend): spent of amount this period, the share used,
// "near its limit" from 80 % (in words and in style, never by colour alone), and the calls refused.

import { h } from './dom.js';
import { clock, dayLabel, money, plural } from './format.js';
import { badge } from './ui.js';

export const PERIODS = [['day', 'per day'], ['week', 'per week'], ['month', 'per month'], ['total', 'in total']];
export const PERIOD_WORDS = Object.fromEntries(PERIODS);
export const NEAR_LIMIT = 0.8;

/** The share of the budget spent (0..), from an object with spent_usd and amount_usd. */
export function usedShare(budget) {
  const amount = Number(budget?.amount_usd ?? 0);
  const spent = Number(budget?.spent_usd ?? 0);
  if (amount <= 0) return spent > 0 ? 1 : 0;
  return spent / amount;
}

/** "near limit" / "spent" badge for a budget, or null while it has room. */
export function limitBadge(budget) {
  const share = usedShare(budget);
  if (share >= 1) return badge('Budget spent', 'danger');
  if (share >= NEAR_LIMIT) return badge('Near limit', 'warning');
  return null;
}

function since(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const today = new Date();
  return date.toDateString() === today.toDateString() ? `since ${clock(value).slice(0, 5)}` : `since ${dayLabel(value)}`;
}

/** "2 calls refused by the budget, 1 by the rate limit since 00:00", or null for none. */
export function refusalsText(refusals) {
  if (!refusals) return null;
  const parts = [];
  if (refusals.budget) parts.push(`${plural(refusals.budget, 'call')} refused by a budget`);
  if (refusals.rate_limit) parts.push(`${plural(refusals.rate_limit, 'call')} refused by a rate limit`);
  if (!parts.length) return null;
  return `${parts.join(', ')} ${refusals.since ? since(refusals.since) : ''}`.trim();
}

/** The budget as a block: spent of amount (share), a meter, near-limit badge, reserved, refusals. */
export function budgetBlock(budget, refusals) {
  const refused = refusalsText(refusals);
  if (!budget) return refused ? h('div', { class: 'budget' }, h('span', null, 'None'), h('span', { class: 'refusal-note' }, refused)) : 'None';
  const spent = Number(budget.spent_usd ?? 0);
  const reserved = Number(budget.reserved_usd ?? 0);
  const share = usedShare(budget);
  const percent = Math.round(share * 1000) / 10;
  const near = share >= NEAR_LIMIT;
  const meter = h('meter', {
    min: '0', max: '1', value: String(Math.min(1, share)), low: '0.7', high: String(NEAR_LIMIT), optimum: '0', class: 'budget-meter',
    'aria-label': `${percent}% of the budget spent`,
  });
  const room = Math.max(0, Number(budget.amount_usd ?? 0) - spent - reserved);
  return h('div', { class: ['budget', near ? 'budget-near' : null] },
    h('span', { class: 'budget-line' },
      `${money(spent)} of ${money(budget.amount_usd)} ${PERIOD_WORDS[budget.period] ?? budget.period ?? ''} (${percent}%)`,
      limitBadge(budget) ? ' ' : null, limitBadge(budget)),
    meter,
    reserved > 0 ? h('span', { class: 'muted small' }, `${money(reserved)} reserved by calls in flight`) : null,
    refused ? h('span', { class: 'refusal-note' }, refused,
      refusals?.budget ? `; a call is refused when what it may cost is more than the ${money(room)} left` : null) : null,
    budget.expires_at ? h('span', { class: 'muted small' }, `until ${dayLabel(budget.expires_at)}`) : null);
}
