/*
 * hawser's porter: what upstream's e2e tests use of agnhost `porter`. For every environment
 * variable SERVE_PORT_<n>=<text> it listens on TCP port <n> and answers any HTTP request with
 * 200 and the body <text>; SERVE_TLS_PORT_<n>=<text> does the same over TLS, with a self-signed
 * EC P-256 certificate made in memory at start (the API server's proxy does not verify it), or with
 * the certificate chain and key in the files SERVE_TLS_CERT_FILE and SERVE_TLS_KEY_FILE (a mounted
 * Secret) when both are set. SERVE_WEBHOOK_PORT=<n> serves agnhost `webhook`'s admission paths over
 * TLS on port n (porter-webhook.c); SERVE_APISERVICE_PORT=<n> serves a minimal aggregated API
 * over TLS on port n (porter-apiservice.c): with those certificate files, the API server verifies
 * them against a webhook's or an APIService's caBundle.
 * The Content-Type is sniffed as Go's net/http does for these bodies: text starting with '<' is
 * text/html (so the API server's proxy rewrites its links, as upstream's test expects), anything
 * else text/plain. One process: poll() over the listeners, one forked child per connection,
 * at most MAX_CHILDREN at a time, each bounded by an alarm. No name resolution (static glibc).
 * Built with `gcc -static` against OpenSSL's static libraries (images/testapp/recipe.ts).
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "porter.h"

#define MAX_PORTS 64
#define MAX_CHILDREN 64
#define CONN_SECONDS 10
#define MAX_HEADER 16384
#define MAX_DISCARD (1 << 20)
/* an AdmissionReview carries an object and its old version, each up to the API server's 3 MiB */
#define MAX_BODY (8 << 20)

enum mode { FIXED_BODY, WEBHOOK, APISERVICE };

struct port {
	int port;
	int tls;
	enum mode mode;
	const char *body;
	int fd;
};

static struct port ports[MAX_PORTS];
static int nports;
static int children;
static char hostname[256] = "porter";
static char started[32];
/* the request being answered is a HEAD: respond() writes the head only */
static int answering_head;

static void die(const char *what, const char *detail) {
	fprintf(stderr, "porter: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void on_stop(int sig) {
	(void)sig;
	_exit(0);
}

static void on_child(int sig) {
	(void)sig; /* only interrupts poll(); reaping happens in the loop */
}

/* "123" -> 123 when it is a port number 1-65535 written in digits only, else -1 */
static int parse_port(const char *s, const char *end) {
	long n = 0;
	if (s == end || end - s > 5) return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9') return -1;
		n = n * 10 + (*p - '0');
	}
	return n >= 1 && n <= 65535 ? (int)n : -1;
}

static void add_port(int n, int tls, enum mode mode, const char *body, const char *var) {
	for (int i = 0; i < nports; i++)
		if (ports[i].port == n) die("port given twice", var);
	if (nports == MAX_PORTS) die("too many ports", var);
	ports[nports++] = (struct port){ .port = n, .tls = tls, .mode = mode, .body = body, .fd = -1 };
}

/*
 * Collects SERVE_PORT_<n>=<text> / SERVE_TLS_PORT_<n>=<text> (the port in the name) and
 * SERVE_WEBHOOK_PORT=<n> / SERVE_APISERVICE_PORT=<n> (the port as the value); any other
 * variable is ignored.
 */
static void read_env(char **env) {
	static const struct { const char *prefix; int tls; } kinds[] = { { "SERVE_PORT_", 0 }, { "SERVE_TLS_PORT_", 1 } };
	static const struct { const char *name; enum mode mode; } modes[] = { { "SERVE_WEBHOOK_PORT=", WEBHOOK }, { "SERVE_APISERVICE_PORT=", APISERVICE } };
	for (char **e = env; *e; e++) {
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			size_t len = strlen(kinds[k].prefix);
			if (strncmp(*e, kinds[k].prefix, len) != 0) continue;
			const char *eq = strchr(*e, '=');
			int n = eq ? parse_port(*e + len, eq) : -1;
			if (n < 0) die("bad environment variable (want SERVE_PORT_<1-65535> or SERVE_TLS_PORT_<1-65535>)", *e);
			add_port(n, kinds[k].tls, FIXED_BODY, eq + 1, *e);
		}
		for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
			size_t len = strlen(modes[m].name);
			if (strncmp(*e, modes[m].name, len) != 0) continue;
			int n = parse_port(*e + len, *e + strlen(*e));
			if (n < 0) die("bad environment variable (want a port 1-65535 as the value)", *e);
			add_port(n, 1, modes[m].mode, NULL, *e);
		}
	}
	if (nports == 0) die("no SERVE_PORT_<n>, SERVE_TLS_PORT_<n>, SERVE_WEBHOOK_PORT or SERVE_APISERVICE_PORT environment variable", NULL);
}

/* Listens on every address of the port: IPv6 dual-stack, or IPv4 where IPv6 is off. */
static int listen_on(int port) {
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, 128) == 0) return fd;
		close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return -1;
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0 && listen(fd, 128) == 0) return fd;
	close(fd);
	return -1;
}

/* The certificate chain and key from the files named by SERVE_TLS_CERT_FILE and SERVE_TLS_KEY_FILE. */
static SSL_CTX *tls_context_from_files(const char *cert, const char *key) {
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return NULL;
	return ctx;
}

/* A self-signed EC P-256 certificate for CN=porter, valid for a year from now. */
static SSL_CTX *tls_context(void) {
	const char *certfile = getenv("SERVE_TLS_CERT_FILE"), *keyfile = getenv("SERVE_TLS_KEY_FILE");
	if (certfile && keyfile) return tls_context_from_files(certfile, keyfile);
	if (certfile || keyfile) die("SERVE_TLS_CERT_FILE and SERVE_TLS_KEY_FILE go together", NULL);
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!key || !cert || !ctx) return NULL;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 24 * 3600);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"porter", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	if (!X509_set_pubkey(cert, key) || !X509_sign(cert, key, EVP_sha256())) return NULL;
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) return NULL;
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

static int conn_read(struct conn *c, char *buf, int len) {
	return c->ssl ? SSL_read(c->ssl, buf, len) : (int)read(c->fd, buf, len);
}

static int conn_write_all(struct conn *c, const char *buf, size_t len) {
	while (len > 0) {
		int n = c->ssl ? SSL_write(c->ssl, buf, (int)len) : (int)write(c->fd, buf, len);
		if (n <= 0) return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Where a header's value starts in the request head (leading spaces skipped; it runs to "\r\n"), or NULL. */
static const char *header(const char *head, const char *name) {
	size_t n = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, n) != 0 || line[2 + n] != ':') continue;
		const char *v = line + 3 + n;
		while (*v == ' ' || *v == '\t') v++;
		return v;
	}
	return NULL;
}

/* Content-Length of the request head, 0 when absent or unreadable. */
static long content_length(const char *head) {
	const char *v = header(head, "Content-Length");
	return v ? strtol(v, NULL, 10) : 0;
}

static const char *reason_phrase(int code) {
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Request Entity Too Large";
	default: return "Internal Server Error";
	}
}

void respond(struct conn *c, int code, const char *type, const char *body, size_t len) {
	char top[256];
	int tlen = snprintf(top, sizeof top, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", code,
	                    reason_phrase(code), type, len);
	if (conn_write_all(c, top, (size_t)tlen) == 0 && !answering_head) conn_write_all(c, body, len);
}

void respond_json(struct conn *c, int code, const char *json) {
	respond(c, code, "application/json", json, strlen(json));
}

/* Reads the rest of a body of `length` bytes, `have` of which came with the head, into a buffer of its own. */
static char *read_body(struct conn *c, const char *have, long have_len, long length) {
	char *body = malloc((size_t)length + 1);
	if (!body) _exit(1);
	memcpy(body, have, (size_t)have_len);
	for (long got = have_len; got < length;) {
		int n = conn_read(c, body + got, (int)(length - got < 65536 ? length - got : 65536));
		if (n <= 0) _exit(1);
		got += n;
	}
	body[length] = '\0';
	return body;
}

/* A webhook's or the aggregated API's request: the request line split, the body read whole. */
static void serve_api(struct conn *c, const struct port *p, char *head, const char *rest, long rest_len) {
	struct request r = { .content_type = header(head, "Content-Type") };
	long length = content_length(head);
	char *sp = strchr(head, ' ');
	char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
	if (!sp || !sp2 || length < 0) return respond(c, 400, "text/plain; charset=utf-8", "bad request\n", 12);
	if (length > MAX_BODY) return respond(c, 413, "text/plain; charset=utf-8", "request body too large\n", 23);
	*sp = *sp2 = '\0';
	char *query = strchr(sp + 1, '?');
	if (query) *query = '\0';
	r.method = head;
	r.path = sp + 1;
	r.len = (size_t)length;
	r.body = read_body(c, rest, rest_len < length ? rest_len : length, length);
	if (p->mode == WEBHOOK) webhook_serve(c, &r);
	else apiservice_serve(c, &r, hostname, started);
}

/* Reads one request (head and body, bounded), answers it and closes: the child's whole life. */
static void serve(int fd, const struct port *p, SSL_CTX *ctx) {
	struct conn c = { .fd = fd, .ssl = NULL };
	char head[MAX_HEADER + 1];
	int used = 0;
	alarm(CONN_SECONDS);
	if (p->tls) {
		c.ssl = SSL_new(ctx);
		if (!c.ssl || !SSL_set_fd(c.ssl, fd) || SSL_accept(c.ssl) != 1) _exit(1);
	}
	char *end = NULL;
	while (!end && used < MAX_HEADER) {
		int n = conn_read(&c, head + used, MAX_HEADER - used);
		if (n <= 0) _exit(1);
		used += n;
		head[used] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	if (!end) _exit(1);
	*end = '\0';
	answering_head = strncmp(head, "HEAD ", 5) == 0;
	if (p->mode != FIXED_BODY) {
		serve_api(&c, p, head, end + 4, (long)(used - (end + 4 - head)));
		if (c.ssl) SSL_shutdown(c.ssl);
		_exit(0);
	}
	long left = content_length(head) - (long)(used - (end + 4 - head));
	if (left > MAX_DISCARD) left = MAX_DISCARD;
	char sink[4096];
	while (left > 0) {
		int n = conn_read(&c, sink, left < (long)sizeof sink ? (int)left : (int)sizeof sink);
		if (n <= 0) break;
		left -= n;
	}
	respond(&c, 200, p->body[0] == '<' ? "text/html; charset=utf-8" : "text/plain; charset=utf-8", p->body, strlen(p->body));
	if (c.ssl) SSL_shutdown(c.ssl);
	_exit(0);
}

static void reap(int block) {
	while (children > 0 && waitpid(-1, NULL, block ? 0 : WNOHANG) > 0) {
		children--;
		block = 0;
	}
}

int main(int argc, char **argv, char **env) {
	(void)argc;
	(void)argv;
	read_env(env);
	gethostname(hostname, sizeof hostname - 1);
	time_t now = time(NULL);
	strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	SSL_CTX *ctx = NULL;
	for (int i = 0; i < nports; i++) {
		if (ports[i].tls && !ctx) {
			OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
			ctx = tls_context();
			if (!ctx) die("cannot set up TLS (certificate and key)", ERR_error_string(ERR_get_error(), NULL));
		}
		ports[i].fd = listen_on(ports[i].port);
		if (ports[i].fd < 0) {
			char n[16];
			snprintf(n, sizeof n, "%d", ports[i].port);
			fprintf(stderr, "porter: cannot listen on port %s: %s\n", n, strerror(errno));
			return 1;
		}
	}
	struct sigaction stop = { .sa_handler = on_stop }, child = { .sa_handler = on_child };
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	signal(SIGPIPE, SIG_IGN);
	static const char *what[] = { [FIXED_BODY] = "", [WEBHOOK] = " (admission webhook)", [APISERVICE] = " (aggregated API)" };
	for (int i = 0; i < nports; i++)
		fprintf(stderr, "porter: serving %s%s on port %d\n", ports[i].tls ? "HTTPS" : "HTTP", what[ports[i].mode], ports[i].port);

	struct pollfd pfd[MAX_PORTS];
	for (;;) {
		reap(children >= MAX_CHILDREN);
		for (int i = 0; i < nports; i++) pfd[i] = (struct pollfd){ .fd = ports[i].fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)nports, 1000) < 0) {
			if (errno == EINTR) continue;
			die("poll", strerror(errno));
		}
		for (int i = 0; i < nports && children < MAX_CHILDREN; i++) {
			if (!(pfd[i].revents & POLLIN)) continue;
			int fd = accept4(ports[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) continue;
			pid_t pid = fork();
			if (pid == 0) {
				signal(SIGALRM, SIG_DFL);
				serve(fd, &ports[i], ctx);
			}
			if (pid > 0) children++;
			close(fd);
		}
	}
}
