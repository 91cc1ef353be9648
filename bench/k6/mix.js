// The benchmark's request mix, open loop (k6 constant-arrival-rate): one script for
// `make bench` (bench/capacity_run.py: the capacity steps) and `make soak` (bench/soak.py):
// 60% list, 20% detail, 10% comments, 5% like, 4% comment, 1% post (the shares are also in
// bench/mix.py, which checks the total rate). Each share is its own scenario at its own
// constant rate, so the proportions hold exactly whatever the latency, and each write
// scenario has its own iteration counter. Every request is tagged route=<scenario>, and a
// no-op threshold per route puts http_req_duration{route:...} into the summary (k6 only
// summarises sub-metrics that a threshold names): per-route p50/p99 without a request log.
//
// With REQUEST_LOG=1 (the soak) every request also prints one line to the console output
// (--console-output, --log-format raw), parsed by bench/soak.py for the error rate and p99
// of every 10 s and, for the writes, the reconciliation against PostgreSQL, ClickHouse and
// the notifications:
//   R,<end ms>,<scenario>,<status>,<duration ms>
//   W,<end ms>,<scenario>,<status>,<duration ms>,<user id>,<post id>,<returned id>,<k>,<liked>
// Writes are by the run's users (for the soak never the post's author) on seeded posts.
// Likes never repeat a (user, post) pair: like number g = LIKE_OFFSET + k maps to one pair,
// so every like is a first like (POST /like/ toggles) and must give exactly one notification.
//
// Environment: BASE, RATE (requests/s in all), DURATION (s), USERS (a JSON file
// [{"id", "token"}]), FIRST_POST, LAST_POST, STRIDE (coprime with the number of posts),
// LIKE_OFFSET, TAG (unique per k6 run: in written titles and contents), SUMMARY (a file),
// REQUEST_LOG (1: the per-request lines), MAX_VU_SECONDS (VUs per request/s: 3).
import http from 'k6/http';
import exec from 'k6/execution';

const BASE = __ENV.BASE;
const RATE = parseFloat(__ENV.RATE);
const DURATION = parseInt(__ENV.DURATION, 10);
const USERS = JSON.parse(open(__ENV.USERS));
const FIRST = parseInt(__ENV.FIRST_POST, 10);
const POSTS = parseInt(__ENV.LAST_POST, 10) - FIRST + 1;
const STRIDE = parseInt(__ENV.STRIDE, 10);
const LIKE_OFFSET = parseInt(__ENV.LIKE_OFFSET || '0', 10);
const TAG = __ENV.TAG;
const BOUNDARY = '----k6soakboundary7MA4YWxkTrZu0gW';
const REQUEST_LOG = __ENV.REQUEST_LOG === '1';
const MAX_VU_SECONDS = parseFloat(__ENV.MAX_VU_SECONDS || '3');

// name: [share of RATE, function]; rates are per 10 s so that 1% of a small rate is whole.
const SHARES = { list: 0.60, detail: 0.20, comments: 0.10, like: 0.05, comment: 0.04, post: 0.01 };

function scenario(name, share) {
  const perSecond = RATE * share;
  return {
    executor: 'constant-arrival-rate', exec: name, duration: `${DURATION}s`,
    rate: Math.max(1, Math.round(perSecond * 10)), timeUnit: '10s',
    // Enough VUs for the rate at MAX_VU_SECONDS per request (during a fault), no more: past
    // that k6 counts dropped iterations (reported) rather than taking the machine's memory.
    preAllocatedVUs: Math.max(2, Math.ceil(perSecond * 0.2)),
    maxVUs: Math.max(5, Math.ceil(perSecond * MAX_VU_SECONDS)),
    gracefulStop: '15s',
  };
}

export const options = {
  scenarios: Object.fromEntries(Object.entries(SHARES).map(([n, s]) => [n, scenario(n, s)])),
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'p(50)', 'p(99)', 'max'],
  // Never fails a run: only there so that the summary carries each route's sub-metrics.
  thresholds: Object.fromEntries(Object.keys(SHARES).flatMap((n) => [
    [`http_req_duration{route:${n}}`, ['max>=0']], [`http_req_failed{route:${n}}`, ['rate>=0']]])),
  noConnectionReuse: false,
};

function randomPost() { return FIRST + Math.floor(Math.random() * POSTS); }
function randomUser() { return USERS[Math.floor(Math.random() * USERS.length)]; }
function auth(user, extra) {
  return Object.assign({ Authorization: `Bearer ${user.token}` }, extra || {});
}

function params(route, headers) {
  const p = { timeout: '10s', tags: { route } };
  if (headers) p.headers = headers;
  return p;
}

function read(name, path) {
  const res = http.get(BASE + path, params(name));
  if (REQUEST_LOG) console.log(`R,${Date.now()},${name},${res.status},${res.timings.duration.toFixed(2)}`);
}

function wrote(name, res, user, post, k) {
  if (!REQUEST_LOG) return;
  let id = '';
  let liked = '';
  if (res.status >= 200 && res.status < 300) {
    try {
      const body = res.json();
      id = body.id === undefined ? '' : body.id;
      liked = body.liked === undefined ? '' : body.liked;
    } catch (e) {
      id = 'unparsed';
    }
  }
  console.log(`W,${Date.now()},${name},${res.status},${res.timings.duration.toFixed(2)},` +
              `${user.id},${post},${id},${k},${liked}`);
}

export function list() { read('list', `/api/posts/?page=${1 + Math.floor(Math.random() * 5)}`); }
export function detail() { read('detail', `/api/posts/${randomPost()}/`); }
export function comments() { read('comments', `/api/comments/?post_id=${randomPost()}`); }

export function like() {
  const k = exec.scenario.iterationInTest;
  const g = LIKE_OFFSET + k;
  const user = USERS[g % USERS.length];
  const post = FIRST + ((Math.floor(g / USERS.length) * STRIDE) % POSTS);
  const res = http.post(`${BASE}/api/posts/${post}/like/`, '', params('like', auth(user)));
  wrote('like', res, user, post, k);
}

export function comment() {
  const k = exec.scenario.iterationInTest;
  const user = randomUser();
  const post = randomPost();
  const body = JSON.stringify({ post_id: post, content: `soak ${TAG} c${k}` });
  const res = http.post(`${BASE}/api/comments/`, body,
    params('comment', auth(user, { 'Content-Type': 'application/json' })));
  wrote('comment', res, user, post, k);
}

export function post() {
  const k = exec.scenario.iterationInTest;
  const user = randomUser();
  const fields = { title: `soak ${TAG} p${k}`, content: 'written during the soak' };
  const body = Object.entries(fields).map(([n, v]) =>
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('') +
    `--${BOUNDARY}--\r\n`;
  const res = http.post(`${BASE}/api/posts/`, body,
    params('post', auth(user, { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` })));
  wrote('post', res, user, '', k);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
