/*
 * The `core` cost model of test/bench/core-hook.ts in C (see there for what it does):
 * contact log with an open-addressing index (backward-shift deletion), grace time,
 * compact TRW scores, per-(destination, port) and per-destination counts. Two entry
 * points: syn(src, dst, dport, sport, second) per packet, and batch(n) over the first n
 * records (5 int32 each) of a shared Int32Array set by setBuffer(array).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOG (1u << 19)
#define LW 8
#define IC (LOG * 2)
#define IM (IC - 1)
#define SC (1u << 17)
#define AG (1u << 12)
#define GRACE 3
#define ALARM 4

static int32_t *lrec;
static uint32_t lhead, ln, lgrace;
static uint32_t *idx;
static int32_t *skey;
static int8_t *sscore;
static int32_t *akey;
static int32_t ddst, dcount;
static uint32_t dbits[32];
static int64_t alarms, contacts, repeats, evicted, sink;
static int32_t *shared;
static size_t shared_len;

static inline uint32_t mix(uint32_t a) {
  uint32_t h = (a ^ 0x5bd1e995u) * 0x85ebca77u;
  h ^= h >> 13;
  h *= 0xc2b2ae3du;
  return h ^ (h >> 16);
}
static inline uint32_t mix3(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t h = (a ^ 0x9e3779b1u) * 0x85ebca77u;
  h = (h ^ b ^ (h >> 15)) * 0xc2b2ae3du;
  h = (h ^ c ^ (h >> 13)) * 0x27d4eb2fu;
  return h ^ (h >> 16);
}

static int64_t lookup(uint32_t h, int32_t a, int32_t d, int32_t p) {
  uint32_t j = h & IM;
  for (;;) {
    uint32_t v = idx[j];
    if (v == 0) return -1;
    int32_t *r = lrec + (size_t)(v - 1) * LW;
    if ((uint32_t)r[3] == h && r[0] == a && r[1] == d && r[2] == p) return v - 1;
    j = (j + 1) & IM;
  }
}

static void judge(uint32_t q) {
  int32_t *r = lrec + (size_t)q * LW;
  if (r[5] != 0) return;
  r[5] = 1;
  int32_t a = r[0];
  uint32_t x = mix((uint32_t)a) & (SC - 1);
  while (skey[x] != 0 && skey[x] != a) x = (x + 1) & (SC - 1);
  skey[x] = a;
  if (sscore[x] < 127 && ++sscore[x] == ALARM) alarms++;
}

static void drop_oldest(void) {
  uint32_t q = (lhead - ln) & (LOG - 1);
  judge(q);
  ln--;
  if (lgrace > 0) lgrace--;
  uint32_t j = (uint32_t)lrec[(size_t)q * LW + 3] & IM;
  while (idx[j] != q + 1) j = (j + 1) & IM;
  for (uint32_t k = (j + 1) & IM;; k = (k + 1) & IM) {
    uint32_t v = idx[k];
    if (v == 0) break;
    uint32_t home = (uint32_t)lrec[(size_t)(v - 1) * LW + 3] & IM;
    if (j <= k ? (home <= j || home > k) : (home <= j && home > k)) {
      idx[j] = v;
      j = k;
    }
  }
  idx[j] = 0;
}

static void core_syn(int32_t a, int32_t d, int32_t p, int32_t sport, int32_t now) {
  while (lgrace < ln) {
    uint32_t q = (lhead - ln + lgrace) & (LOG - 1);
    if (lrec[(size_t)q * LW + 4] + GRACE > now) break;
    judge(q);
    lgrace++;
  }
  uint32_t h = mix3((uint32_t)a, (uint32_t)d, (uint32_t)p);
  uint32_t hr = mix3((uint32_t)d, (uint32_t)a, (uint32_t)sport);
  int64_t f = lookup(h, a, d, p);
  if (lookup(hr, d, a, sport) >= 0) sink++;
  if (f >= 0) {
    repeats++;
    return;
  }
  if (ln == LOG) {
    drop_oldest();
    evicted++;
  }
  uint32_t q = lhead;
  lhead = (lhead + 1) & (LOG - 1);
  ln++;
  contacts++;
  int32_t *r = lrec + (size_t)q * LW;
  r[0] = a;
  r[1] = d;
  r[2] = p;
  r[3] = (int32_t)h;
  r[4] = now;
  r[5] = 0;
  uint32_t j = h & IM;
  while (idx[j] != 0) j = (j + 1) & IM;
  idx[j] = q + 1;
  uint32_t g = (mix((uint32_t)d ^ ((uint32_t)p * 0x9e3779b1u)) & (AG - 1)) * 4;
  if (akey[g] != d || akey[g + 1] != p) {
    akey[g] = d;
    akey[g + 1] = p;
    akey[g + 2] = 0;
  }
  akey[g + 2]++;
  akey[g + 3] = now;
  if (ddst != d) {
    ddst = d;
    dcount = 0;
    memset(dbits, 0, sizeof dbits);
  }
  dcount++;
  uint32_t b = mix((uint32_t)a) & 1023;
  dbits[b >> 5] |= 1u << (b & 31);
}

static napi_value syn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t v[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  for (int i = 0; i < 5; i++) napi_get_value_int32(env, argv[i], &v[i]);
  core_syn(v[0], v[1], v[2], v[3], v[4]);
  return NULL;
}

static napi_value set_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_typedarray_type t;
  void *data;
  napi_value ab;
  size_t off;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_typedarray_info(env, argv[0], &t, &shared_len, &data, &ab, &off);
  shared = (int32_t *)data;
  return NULL;
}

static napi_value batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[0], &n);
  for (int32_t i = 0; i < n; i++) {
    int32_t *s = shared + (size_t)i * 5;
    core_syn(s[0], s[1], s[2], s[3], s[4]);
  }
  return NULL;
}

static napi_value stats(napi_env env, napi_callback_info info) {
  napi_value arr, x;
  int64_t ones = 0;
  for (int i = 0; i < 32; i++) ones += __builtin_popcount(dbits[i]);
  napi_create_array_with_length(env, 6, &arr);
  int64_t vals[6] = {contacts, repeats, evicted, alarms, dcount, ones};
  for (uint32_t i = 0; i < 6; i++) {
    napi_create_int64(env, vals[i], &x);
    napi_set_element(env, arr, i, x);
  }
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  lrec = calloc((size_t)LOG * LW, 4);
  idx = calloc(IC, 4);
  skey = calloc(SC, 4);
  sscore = calloc(SC, 1);
  akey = calloc((size_t)AG * 4, 4);
  napi_property_descriptor d[] = {
    {"syn", 0, syn, 0, 0, 0, napi_default, 0},
    {"setBuffer", 0, set_buffer, 0, 0, 0, napi_default, 0},
    {"batch", 0, batch, 0, 0, 0, napi_default, 0},
    {"stats", 0, stats, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, 4, d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
