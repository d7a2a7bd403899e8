// rgbaToI420(src, width, height, dst): canvas RGBA → planar I420 (BT.601 limited range, what
// FFmpeg's swscale makes of `-pix_fmt rgba` → yuv420p) with libyuv, so the encoder takes frames
// it need not convert (issue 14). Plain Node-API (node_api.h ships with Node's headers): no
// npm dependency, and the module is context-aware, so every render thread can load it.
// Bad arguments throw a TypeError; nothing here may abort the process.
#include <node_api.h>
#include <libyuv.h>
#include <cmath>
#include <cstdint>

namespace {

// A frame larger than this is no broadcast of ours; the bound also keeps size arithmetic far from overflow.
constexpr double kMaxSide = 16384;

napi_value ThrowType(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// A Uint8Array (Buffer included): its bytes and length. False when it is anything else.
bool Bytes(napi_env env, napi_value v, uint8_t** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return false;
  *data = static_cast<uint8_t*>(ptr);
  return true;
}

// A positive even integer up to kMaxSide (I420 halves both sides for its chroma planes).
bool Side(napi_env env, napi_value v, int* out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!std::isfinite(d) || d < 2 || d > kMaxSide || std::floor(d) != d || static_cast<int64_t>(d) % 2 != 0) return false;
  *out = static_cast<int>(d);
  return true;
}

napi_value RgbaToI420(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 4) return ThrowType(env, "rgbaToI420(src, width, height, dst): 4 arguments expected");

  uint8_t* src = nullptr;
  uint8_t* dst = nullptr;
  size_t srcLen = 0, dstLen = 0;
  int width = 0, height = 0;
  if (!Bytes(env, argv[0], &src, &srcLen)) return ThrowType(env, "rgbaToI420: src must be a Buffer or Uint8Array");
  if (!Side(env, argv[1], &width)) return ThrowType(env, "rgbaToI420: width must be an even integer from 2 to 16384");
  if (!Side(env, argv[2], &height)) return ThrowType(env, "rgbaToI420: height must be an even integer from 2 to 16384");
  if (!Bytes(env, argv[3], &dst, &dstLen)) return ThrowType(env, "rgbaToI420: dst must be a Buffer or Uint8Array");

  const size_t pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  if (srcLen != pixels * 4) return ThrowType(env, "rgbaToI420: src must be width*height*4 bytes");
  if (dstLen != pixels * 3 / 2) return ThrowType(env, "rgbaToI420: dst must be width*height*3/2 bytes");
  // Overlapping memory (two views of one ArrayBuffer) would read pixels already overwritten.
  if (src < dst + dstLen && dst < src + srcLen) return ThrowType(env, "rgbaToI420: src and dst must not overlap");

  uint8_t* y = dst;
  uint8_t* u = y + pixels;
  uint8_t* v = u + pixels / 4;
  // libyuv names formats by the 32-bit little-endian word: bytes R,G,B,A in memory are its "ABGR".
  if (libyuv::ABGRToI420(src, width * 4, y, width, u, width / 2, v, width / 2, width, height) != 0) {
    return ThrowType(env, "rgbaToI420: libyuv refused the frame");
  }
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "rgbaToI420", NAPI_AUTO_LENGTH, RgbaToI420, nullptr, &fn) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "rgbaToI420", fn) != napi_ok) return nullptr;
  return exports;
}
