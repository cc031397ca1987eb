// The data path's AEAD, measured: ChaCha20-Poly1305 (RFC 8439) sealing and opening
// 1420-byte packets with libsodium and with OpenSSL's EVP interface (the OpenSSL that
// Node links; Debian's libcrypto of the same 3.0 release here), one packet per call as
// the addon's batch loop makes them. Build and run (bench/RESULTS.md has the figures):
//   gcc -O2 -o /tmp/aead-compare bench/aead/compare.c -lsodium -lcrypto && /tmp/aead-compare
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { PACKET = 1420, ROUNDS = 400000 };

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void nonce_for(uint8_t nonce[12], uint64_t counter) {
  memset(nonce, 0, 4);
  memcpy(nonce + 4, &counter, 8);  // little-endian on x86, as WireGuard's nonce
}

static void report(const char* what, double ns) {
  double per = ns / ROUNDS;
  printf("%-34s %7.0f ns/packet  %5.2f Gbit/s\n", what, per, PACKET * 8 / per);
}

int main(void) {
  static uint8_t key[32], buf[PACKET + 16], tag[16], nonce[12];
  if (sodium_init() < 0) return 1;
  randombytes_buf(key, sizeof key);
  randombytes_buf(buf, PACKET);

  double t = now_ns();
  for (uint64_t i = 0; i < ROUNDS; i++) {
    nonce_for(nonce, i);
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag, NULL, buf, PACKET, NULL, 0, NULL, nonce, key);
  }
  report("libsodium seal", now_ns() - t);
  // Opening: seal once, then open the same packet (authentication fails only if broken).
  nonce_for(nonce, 7);
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, tag, NULL, buf, PACKET, NULL, 0, NULL, nonce, key);
  static uint8_t plain[PACKET];
  t = now_ns();
  for (uint64_t i = 0; i < ROUNDS; i++) {
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, NULL, buf, PACKET, tag, NULL, 0, nonce, key) != 0) return 2;
  }
  report("libsodium open", now_ns() - t);

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, NULL);
  int len = 0;
  t = now_ns();
  for (uint64_t i = 0; i < ROUNDS; i++) {
    nonce_for(nonce, i);
    EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce);
    EVP_EncryptUpdate(ctx, buf, &len, buf, PACKET);
    EVP_EncryptFinal_ex(ctx, buf + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
  }
  report("OpenSSL EVP seal (key kept)", now_ns() - t);
  nonce_for(nonce, 7);
  EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce);
  EVP_EncryptUpdate(ctx, buf, &len, buf, PACKET);
  EVP_EncryptFinal_ex(ctx, buf + len, &len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
  EVP_CIPHER_CTX* dctx = EVP_CIPHER_CTX_new();
  EVP_DecryptInit_ex(dctx, EVP_chacha20_poly1305(), NULL, key, NULL);
  t = now_ns();
  for (uint64_t i = 0; i < ROUNDS; i++) {
    EVP_DecryptInit_ex(dctx, NULL, NULL, NULL, nonce);
    EVP_DecryptUpdate(dctx, plain, &len, buf, PACKET);
    EVP_CIPHER_CTX_ctrl(dctx, EVP_CTRL_AEAD_SET_TAG, 16, tag);
    if (EVP_DecryptFinal_ex(dctx, plain + len, &len) != 1) return 3;
  }
  report("OpenSSL EVP open (key kept)", now_ns() - t);
  t = now_ns();
  for (uint64_t i = 0; i < ROUNDS; i++) {
    nonce_for(nonce, i);
    EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce);
    EVP_EncryptUpdate(ctx, buf, &len, buf, PACKET);
    EVP_EncryptFinal_ex(ctx, buf + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
  }
  report("OpenSSL EVP seal (key per packet)", now_ns() - t);
  EVP_CIPHER_CTX_free(ctx);
  EVP_CIPHER_CTX_free(dctx);
  return 0;
}
