#include "tls.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace kubesim {

TlsIdentity::~TlsIdentity() {
  if (cert) X509_free(cert);
  if (key) EVP_PKEY_free(key);
}

static void AddExt(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("cannot build certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::unique_ptr<TlsIdentity> MakeSelfSignedIdentity(const std::string& host) {
  auto id = std::make_unique<TlsIdentity>();
  id->key = EVP_EC_gen("P-256");
  if (!id->key) throw std::runtime_error("cannot generate a TLS key");
  id->cert = X509_new();
  X509_set_version(id->cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(id->cert), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(id->cert), 3600L * 24 * 365);
  X509_set_pubkey(id->cert, id->key);
  X509_NAME* name = X509_get_subject_name(id->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("kube-sim"), -1, -1, 0);
  X509_set_issuer_name(id->cert, name);
  std::string san = "IP:127.0.0.1,DNS:localhost";
  in_addr a4{};
  in6_addr a6{};
  if (!host.empty() && host != "127.0.0.1" && host != "localhost") {
    bool ip =
        inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
    san += (ip ? ",IP:" : ",DNS:") + host;
  }
  // Its own CA: the kubeconfig trusts exactly this certificate.
  AddExt(id->cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExt(id->cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  AddExt(id->cert, NID_ext_key_usage, "serverAuth");
  AddExt(id->cert, NID_subject_alt_name, san);
  if (X509_sign(id->cert, id->key, EVP_sha256()) == 0)
    throw std::runtime_error("cannot sign certificate");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, id->cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  id->cert_pem.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  return id;
}

}  // namespace kubesim
