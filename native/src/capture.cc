// iplog live capture: libpcap handles read by one capture thread each, packets handed to
// JavaScript in batches laid out like classic pcap records. Threading and buffer-reuse
// guarantees are in native/README.md; the TypeScript side is src/capture/live.ts.
//
// Exports:
//   Capture(device, {snaplen, promisc, bufferSize, timeoutMs})   one activated handle
//     .datalink() .nanosecond() .warning() .setFilter(text)
//     .start(slots: Buffer[], flushMs, callback)  callback(kind, a, b, c):
//         kind 0 = batch: a = slot index, b = bytes used, c = packets; return true to
//                  keep the slot (then call release(slot) later), anything else frees it
//         kind 1 = error: a = errno-like code (ENETDOWN, ENODEV or 0), b = libpcap's text;
//                  the capture thread has ended
//     .release(slot) .pending() .stats() .inject(bytes) .close()
//   interfaces()       [{name, address, flags}] for every IPv4 address (getifaddrs)
//   ifFlags(name)      SIOCGIFFLAGS of an interface, -1 if there is none
//   canRawSocket()     whether socket(PF_INET, SOCK_RAW, IPPROTO_TCP) succeeds
//   lockFile(fd)       fcntl F_SETLK whole-file write lock: true, or false if held elsewhere
//   lockOwner(fd)      fcntl F_GETLK: pid of a process holding a conflicting lock, or 0
//   libVersion()       pcap_lib_version()

#include <napi.h>
#include <pcap/pcap.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// Every record starts with ts_sec, ts_frac, caplen, len: four host-order uint32.
constexpr size_t kRecordHeader = 16;
// How often the capture thread refreshes the pcap_stats snapshot (and the longest it
// sleeps in poll(), so it notices nothing else is needed).
constexpr int kStatsIntervalMs = 250;

int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A message from a capture thread to the JavaScript callback.
struct Message {
  int kind;  // 0 batch, 1 error
  int slot;
  uint32_t bytes;
  uint32_t packets;
  int code;
  std::string text;
};

const char* StatusName(int rc) {
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: return "PCAP_ERROR_NO_SUCH_DEVICE";
    case PCAP_ERROR_PERM_DENIED: return "PCAP_ERROR_PERM_DENIED";
    case PCAP_ERROR_IFACE_NOT_UP: return "PCAP_ERROR_IFACE_NOT_UP";
    case PCAP_ERROR_PROMISC_PERM_DENIED: return "PCAP_ERROR_PROMISC_PERM_DENIED";
    case PCAP_ERROR_RFMON_NOTSUP: return "PCAP_ERROR_RFMON_NOTSUP";
    case PCAP_ERROR_ACTIVATED: return "PCAP_ERROR_ACTIVATED";
    default: return "PCAP_ERROR";
  }
}

Napi::Error ErrorWithCode(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture",
                       {
                           InstanceMethod<&Capture::Datalink>("datalink"),
                           InstanceMethod<&Capture::Nanosecond>("nanosecond"),
                           InstanceMethod<&Capture::Warning>("warning"),
                           InstanceMethod<&Capture::SetFilter>("setFilter"),
                           InstanceMethod<&Capture::Start>("start"),
                           InstanceMethod<&Capture::Release>("release"),
                           InstanceMethod<&Capture::Pending>("pending"),
                           InstanceMethod<&Capture::Stats>("stats"),
                           InstanceMethod<&Capture::Inject>("inject"),
                           InstanceMethod<&Capture::Close>("close"),
                       });
  }

  explicit Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "Capture(device: string, options: object)").ThrowAsJavaScriptException();
      return;
    }
    device_ = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[1].As<Napi::Object>();
    auto num = [&](const char* key, int64_t dflt) -> int64_t {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : dflt;
    };
    snaplen_ = static_cast<uint32_t>(std::clamp<int64_t>(num("snaplen", 1500), 64, 262144));
    const bool promisc = o.Get("promisc").ToBoolean().Value();
    const int64_t bufferSize = num("bufferSize", 0);
    const int64_t timeoutMs = num("timeoutMs", 10);

    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_ = pcap_create(device_.c_str(), errbuf);
    if (pcap_ == nullptr) {
      ErrorWithCode(env, errbuf, "PCAP_ERROR").ThrowAsJavaScriptException();
      return;
    }
    pcap_set_snaplen(pcap_, static_cast<int>(snaplen_));
    pcap_set_promisc(pcap_, promisc ? 1 : 0);
    // Block mode: the kernel hands over whole blocks, retired at the latest after this
    // timeout (TPACKET_V3); immediate mode would wake us for every packet.
    pcap_set_timeout(pcap_, static_cast<int>(std::clamp<int64_t>(timeoutMs, 1, 1000)));
    pcap_set_immediate_mode(pcap_, 0);
    if (bufferSize > 0) pcap_set_buffer_size(pcap_, static_cast<int>(std::min<int64_t>(bufferSize, 1 << 30)));
    pcap_set_tstamp_precision(pcap_, PCAP_TSTAMP_PRECISION_NANO);  // falls back to micro
    const int rc = pcap_activate(pcap_);
    if (rc < 0) {
      std::string msg = pcap_geterr(pcap_);
      if (msg.empty()) msg = pcap_statustostr(rc);
      pcap_close(pcap_);
      pcap_ = nullptr;
      ErrorWithCode(env, msg, StatusName(rc)).ThrowAsJavaScriptException();
      return;
    }
    if (rc > 0) warning_ = std::string(pcap_statustostr(rc)) + ": " + pcap_geterr(pcap_);
    nano_ = pcap_get_tstamp_precision(pcap_) == PCAP_TSTAMP_PRECISION_NANO;
    datalink_ = pcap_datalink(pcap_);
  }

  ~Capture() override {
    StopAndJoin();
    if (pcap_ != nullptr) pcap_close(pcap_);
    if (wakeFd_ >= 0) close(wakeFd_);
  }

 private:
  Napi::Value Datalink(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), datalink_); }
  Napi::Value Nanosecond(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), nano_); }
  Napi::Value Warning(const Napi::CallbackInfo& info) {
    if (warning_.empty()) return info.Env().Null();
    return Napi::String::New(info.Env(), warning_);
  }

  bool CheckOpen(Napi::Env env) {
    if (pcap_ != nullptr) return true;
    Napi::Error::New(env, "capture handle is closed").ThrowAsJavaScriptException();
    return false;
  }

  // BPF filter text; only before start() (the capture thread owns the handle after that).
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (started_) {
      Napi::Error::New(env, "setFilter() after start()").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, "setFilter(text: string)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const std::string text = info[0].As<Napi::String>().Utf8Value();
    bpf_program prog;
    if (pcap_compile(pcap_, &prog, text.c_str(), 1, PCAP_NETMASK_UNKNOWN) == -1) {
      ErrorWithCode(env, std::string("pcap_compile: ") + pcap_geterr(pcap_), "PCAP_COMPILE").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int rc = pcap_setfilter(pcap_, &prog);
    pcap_freecode(&prog);
    if (rc == -1) {
      ErrorWithCode(env, std::string("pcap_setfilter: ") + pcap_geterr(pcap_), "PCAP_SETFILTER").ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }

  // start(slots, flushMs, callback): the slots are JS Buffers the thread fills in turn.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (started_) {
      Napi::Error::New(env, "start() called twice").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsNumber() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "start(slots: Buffer[], flushMs: number, callback: Function)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array slots = info[0].As<Napi::Array>();
    const uint32_t n = slots.Length();
    if (n < 2 || n > 64) {
      Napi::RangeError::New(env, "start(): between 2 and 64 slots").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    size_t size = SIZE_MAX;
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v = slots.Get(i);
      if (!v.IsBuffer()) {
        Napi::TypeError::New(env, "start(): every slot must be a Buffer").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      size = std::min(size, v.As<Napi::Buffer<uint8_t>>().Length());
    }
    if (size < kRecordHeader + snaplen_) {
      Napi::RangeError::New(env, "start(): a slot must hold at least one record of snaplen bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    if (pcap_setnonblock(pcap_, 1, errbuf) == -1) {
      Napi::Error::New(env, std::string("pcap_setnonblock: ") + errbuf).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0) {
      Napi::Error::New(env, std::string("eventfd: ") + strerror(errno)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    slotSize_ = size;
    for (uint32_t i = 0; i < n; i++) {
      Napi::Buffer<uint8_t> b = slots.Get(i).As<Napi::Buffer<uint8_t>>();
      slotData_.push_back(b.Data());
      slotRefs_.push_back(Napi::Persistent(b));
      slotFree_.push_back(true);
    }
    flushMs_ = static_cast<int>(std::clamp<int64_t>(info[1].As<Napi::Number>().Int64Value(), 1, 10000));
    // The handle stays alive until the thread-safe function is finalized (after the
    // thread has ended and every queued message has been handled).
    Ref();
    tsfn_ = Tsfn::New(env, info[2].As<Napi::Function>(), "iplog-capture", 0, 1, this,
                      [](Napi::Env, void*, Capture* self) { self->Unref(); }, static_cast<void*>(nullptr));
    started_ = true;
    thread_ = std::thread([this] { Run(); });
    return env.Undefined();
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(env, "release(slot: number)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int slot = info[0].As<Napi::Number>().Int32Value();
    if (slot < 0 || static_cast<size_t>(slot) >= slotFree_.size()) {
      Napi::RangeError::New(env, "release(): no such slot").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    FreeSlot(slot);
    return env.Undefined();
  }

  // Packets captured but not yet handed to JavaScript: queued batches, the batch being
  // filled, and a packet waiting for a free slot.
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    const uint32_t p = queued_.load() + filling_.load() + (waiting_.load() ? 1 : 0);
    return Napi::Number::New(info.Env(), p);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!started_ && pcap_ != nullptr) RefreshStats();  // no thread yet: safe here
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", Napi::Number::New(env, static_cast<double>(recv_.load())));
    o.Set("dropped", Napi::Number::New(env, static_cast<double>(drop_.load())));
    o.Set("ifDropped", Napi::Number::New(env, static_cast<double>(ifdrop_.load())));
    o.Set("captured", Napi::Number::New(env, static_cast<double>(captured_.load())));
    o.Set("batches", Napi::Number::New(env, static_cast<double>(batches_.load())));
    o.Set("stalls", Napi::Number::New(env, static_cast<double>(stalls_.load())));
    return o;
  }

  Napi::Value Inject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "inject(bytes: Uint8Array)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    const int n = pcap_inject(pcap_, a.Data(), a.ByteLength());
    if (n < 0) {
      Napi::Error::New(env, std::string("pcap_inject: ") + pcap_geterr(pcap_)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, n);
  }

  // Stops and joins the capture thread, closes the handle. Batches still queued for
  // JavaScript are dropped (their callbacks are not made). Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopAndJoin();
    closed_ = true;
    if (pcap_ != nullptr) {
      pcap_close(pcap_);
      pcap_ = nullptr;
    }
    // The thread is gone: its wake-up eventfd goes now, not when the garbage collector
    // gets to this object (every SIGHUP reopens the interfaces: 100 restarts held 57).
    if (wakeFd_ >= 0) {
      close(wakeFd_);
      wakeFd_ = -1;
    }
    for (auto& r : slotRefs_) r.Reset();
    return info.Env().Undefined();
  }

  // ---- capture thread ------------------------------------------------------------

  void Run() {
    const int fd = pcap_get_selectable_fd(pcap_);
    pollfd pfd[2] = {{fd, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    std::string error;
    int code = 0;
    lastStatsMs_ = MonotonicMs();
    while (!stop_.load(std::memory_order_relaxed)) {
      const int n = pcap_dispatch(pcap_, -1, &Capture::OnPacket, reinterpret_cast<u_char*>(this));
      if (n == PCAP_ERROR_BREAK) continue;  // stopping while waiting for a slot
      if (n < 0) {
        error = pcap_geterr(pcap_);
        if (error.find("went down") != std::string::npos) code = ENETDOWN;
        else if (error.find("disappeared") != std::string::npos) code = ENODEV;
        break;
      }
      const int64_t now = MonotonicMs();
      if (used_ > 0 && now - batchStartMs_ >= flushMs_) HandOff();
      if (now - lastStatsMs_ >= kStatsIntervalMs) {
        RefreshStats();
        lastStatsMs_ = now;
      }
      if (n > 0) continue;  // more may be ready: drain before sleeping
      int64_t timeout = kStatsIntervalMs - (now - lastStatsMs_);
      if (used_ > 0) timeout = std::min<int64_t>(timeout, flushMs_ - (now - batchStartMs_));
      if (timeout < 1) timeout = 1;
      pfd[0].revents = pfd[1].revents = 0;
      if (poll(pfd, 2, static_cast<int>(timeout)) < 0 && errno != EINTR) {
        error = std::string("poll: ") + strerror(errno);
        break;
      }
      if (pfd[1].revents & POLLIN) {
        uint64_t v;
        ssize_t r = read(wakeFd_, &v, sizeof v);
        (void)r;
      }
    }
    RefreshStats();
    if (!error.empty()) {
      if (used_ > 0) HandOff();  // what was captured before the error is still delivered
      Post(new Message{1, -1, 0, 0, code, error});
    } else if (cur_ >= 0) {
      FreeSlot(cur_);  // stopping: the partial batch is dropped
      cur_ = -1;
    }
    filling_.store(0);
    tsfn_.Release();
  }

  static void OnPacket(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    Capture* self = reinterpret_cast<Capture*>(user);
    const uint32_t caplen = std::min<uint32_t>(h->caplen, self->snaplen_);
    const size_t need = kRecordHeader + caplen;
    if (self->cur_ >= 0 && self->used_ + need > self->slotSize_) self->HandOff();
    if (self->cur_ < 0 && !self->AcquireSlot()) {
      pcap_breakloop(self->pcap_);
      return;
    }
    uint8_t* p = self->slotData_[self->cur_] + self->used_;
    // ts.tv_usec carries nanoseconds when the handle has nanosecond precision
    const uint32_t hdr[4] = {static_cast<uint32_t>(h->ts.tv_sec), static_cast<uint32_t>(h->ts.tv_usec), caplen, h->len};
    memcpy(p, hdr, kRecordHeader);
    memcpy(p + kRecordHeader, bytes, caplen);
    if (self->count_ == 0) self->batchStartMs_ = MonotonicMs();
    self->used_ += need;
    self->count_++;
    self->filling_.store(self->count_, std::memory_order_relaxed);
    self->captured_.fetch_add(1, std::memory_order_relaxed);
  }

  // Takes the lowest free slot (the same few stay warm in cache); waits while JavaScript
  // holds them all, which leaves packets in the kernel ring (dropped there if it fills,
  // and counted by pcap_stats). False when stopping.
  bool AcquireSlot() {
    std::unique_lock<std::mutex> lk(mu_);
    bool stalled = false;
    for (;;) {
      for (size_t i = 0; i < slotFree_.size(); i++) {
        if (slotFree_[i]) {
          slotFree_[i] = false;
          cur_ = static_cast<int>(i);
          used_ = 0;
          count_ = 0;
          return true;
        }
      }
      if (stop_.load()) return false;
      if (!stalled) stalls_.fetch_add(1, std::memory_order_relaxed);
      stalled = true;
      waiting_.store(true);
      cv_.wait_for(lk, std::chrono::milliseconds(kStatsIntervalMs));
      waiting_.store(false);
      // keep the counters current while stalled: this is when the kernel drops
      const int64_t now = MonotonicMs();
      if (now - lastStatsMs_ >= kStatsIntervalMs) {
        lk.unlock();
        RefreshStats();
        lastStatsMs_ = now;
        lk.lock();
      }
    }
  }

  void HandOff() {
    const int slot = cur_;
    Message* m = new Message{0, slot, static_cast<uint32_t>(used_), count_, 0, std::string()};
    cur_ = -1;
    used_ = 0;
    count_ = 0;
    queued_.fetch_add(1);
    filling_.store(0);
    batches_.fetch_add(1, std::memory_order_relaxed);
    if (tsfn_.NonBlockingCall(m) != napi_ok) {
      queued_.fetch_sub(1);
      delete m;
      FreeSlot(slot);
    }
  }

  void Post(Message* m) {
    if (tsfn_.NonBlockingCall(m) != napi_ok) delete m;
  }

  void FreeSlot(int slot) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      slotFree_[slot] = true;
    }
    cv_.notify_one();
  }

  // pcap_stats counters are 32-bit and cumulative: add the differences to 64-bit totals.
  void RefreshStats() {
    pcap_stat s;
    if (pcap_ == nullptr || pcap_stats(pcap_, &s) != 0) return;
    recv_.fetch_add(static_cast<uint32_t>(s.ps_recv - lastRecv_));
    drop_.fetch_add(static_cast<uint32_t>(s.ps_drop - lastDrop_));
    ifdrop_.fetch_add(static_cast<uint32_t>(s.ps_ifdrop - lastIfdrop_));
    lastRecv_ = s.ps_recv;
    lastDrop_ = s.ps_drop;
    lastIfdrop_ = s.ps_ifdrop;
  }

  void StopAndJoin() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    if (wakeFd_ >= 0) {
      uint64_t one = 1;
      ssize_t r = write(wakeFd_, &one, sizeof one);
      (void)r;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
    }
    cv_.notify_all();
    thread_.join();
  }

  // ---- main thread: the thread-safe function's callback ---------------------------

  static void CallJs(Napi::Env env, Napi::Function callback, Capture* self, Message* m) {
    if (m->kind == 0) self->queued_.fetch_sub(1);
    if (static_cast<napi_env>(env) == nullptr || self->closed_) {
      if (m->kind == 0) self->FreeSlot(m->slot);
      delete m;
      return;
    }
    if (m->kind == 0) {
      Napi::Value r = callback.Call({Napi::Number::New(env, 0), Napi::Number::New(env, m->slot),
                                     Napi::Number::New(env, m->bytes), Napi::Number::New(env, m->packets)});
      // an exception (r empty) stays pending and becomes an uncaught exception
      const bool keep = !r.IsEmpty() && r.IsBoolean() && r.As<Napi::Boolean>().Value();
      if (!keep) self->FreeSlot(m->slot);
    } else {
      callback.Call({Napi::Number::New(env, 1), Napi::Number::New(env, m->code), Napi::String::New(env, m->text)});
    }
    delete m;
  }

  using Tsfn = Napi::TypedThreadSafeFunction<Capture, Message, &Capture::CallJs>;

  pcap_t* pcap_ = nullptr;
  std::string device_;
  std::string warning_;
  uint32_t snaplen_ = 1500;
  int datalink_ = -1;
  bool nano_ = false;
  int wakeFd_ = -1;
  bool started_ = false;
  bool closed_ = false;

  std::vector<uint8_t*> slotData_;
  std::vector<Napi::Reference<Napi::Buffer<uint8_t>>> slotRefs_;
  size_t slotSize_ = 0;
  std::vector<bool> slotFree_;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;

  // capture thread only
  int cur_ = -1;
  size_t used_ = 0;
  uint32_t count_ = 0;
  int64_t batchStartMs_ = 0;
  int flushMs_ = 20;
  int64_t lastStatsMs_ = 0;
  uint32_t lastRecv_ = 0, lastDrop_ = 0, lastIfdrop_ = 0;

  std::thread thread_;
  Tsfn tsfn_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> waiting_{false};
  std::atomic<uint32_t> queued_{0};
  std::atomic<uint32_t> filling_{0};
  std::atomic<uint64_t> recv_{0}, drop_{0}, ifdrop_{0}, captured_{0}, batches_{0}, stalls_{0};
};

// ---- helpers ---------------------------------------------------------------------

Napi::Value Interfaces(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    Napi::Error::New(env, std::string("getifaddrs: ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t k = 0;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", Napi::String::New(env, a->ifa_name));
    o.Set("address", Napi::String::New(env, text));
    o.Set("flags", Napi::Number::New(env, a->ifa_flags));
    out.Set(k++, o);
  }
  freeifaddrs(list);
  return out;
}

// SIOCGIFFLAGS of one interface (an alias label `eth0:1` names its device), or -1 when
// there is no such interface.
Napi::Value IfFlags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "ifFlags(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.size() >= IFNAMSIZ) return Napi::Number::New(env, -1);
  const int s = socket(PF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    Napi::Error::New(env, std::string("socket: ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name.c_str(), name.size());
  const int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
  close(s);
  return Napi::Number::New(env, rc == 0 ? static_cast<uint16_t>(ifr.ifr_flags) : -1);
}

Napi::Value CanRawSocket(const Napi::CallbackInfo& info) {
  const int s = socket(PF_INET, SOCK_RAW, IPPROTO_TCP);
  if (s >= 0) close(s);
  return Napi::Boolean::New(info.Env(), s >= 0);
}

bool FdArg(const Napi::CallbackInfo& info, int* fd) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "expected a file descriptor").ThrowAsJavaScriptException();
    return false;
  }
  *fd = info[0].As<Napi::Number>().Int32Value();
  return true;
}

Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(info, &fd)) return env.Undefined();
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_SETLK, &fl) == 0) return Napi::Boolean::New(env, true);
  if (errno == EACCES || errno == EAGAIN) return Napi::Boolean::New(env, false);
  Napi::Error e = Napi::Error::New(env, std::string("fcntl(F_SETLK): ") + strerror(errno));
  e.Set("errno", Napi::Number::New(env, errno));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value LockOwner(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!FdArg(info, &fd)) return env.Undefined();
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &fl) != 0) {
    Napi::Error e = Napi::Error::New(env, std::string("fcntl(F_GETLK): ") + strerror(errno));
    e.Set("errno", Napi::Number::New(env, errno));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fl.l_type == F_UNLCK ? 0 : fl.l_pid);
}

Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Define(env));
  exports.Set("interfaces", Napi::Function::New<Interfaces>(env, "interfaces"));
  exports.Set("ifFlags", Napi::Function::New<IfFlags>(env, "ifFlags"));
  exports.Set("canRawSocket", Napi::Function::New<CanRawSocket>(env, "canRawSocket"));
  exports.Set("lockFile", Napi::Function::New<LockFile>(env, "lockFile"));
  exports.Set("lockOwner", Napi::Function::New<LockOwner>(env, "lockOwner"));
  exports.Set("libVersion", Napi::Function::New<LibVersion>(env, "libVersion"));
  return exports;
}

}  // namespace

NODE_API_MODULE(iplog_capture, Init)
