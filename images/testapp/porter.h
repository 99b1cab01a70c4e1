/*
 * What porter's parts share: one connection's byte stream (plain or TLS), the answer writer,
 * and the JSON reader the webhook and aggregated-API modes use to look into request bodies.
 * porter.c owns the server; porter-webhook.c and porter-apiservice.c answer one request each.
 */
#ifndef PORTER_H
#define PORTER_H

#include <stddef.h>
#include <openssl/ssl.h>

struct conn {
	int fd;
	SSL *ssl;
};

/* One parsed request: method and path from the request line, the body as read (NUL-terminated). */
struct request {
	const char *method;
	const char *path;
	const char *content_type;
	const char *body;
	size_t len;
};

/* Writes one whole answer with Content-Type and Content-Length, Connection: close. */
void respond(struct conn *c, int code, const char *type, const char *body, size_t len);
/* respond() for a JSON body given as a NUL-terminated string */
void respond_json(struct conn *c, int code, const char *json);

/* A JSON value's bytes: [start, end) of the raw text (strings with their quotes). */
struct jv {
	const char *start;
	const char *end;
};

/* The member `key` of the object `obj` (its raw value), or {NULL, NULL} when obj is no object or lacks it. */
struct jv json_get(struct jv obj, const char *key);
/* The whole text as one value (leading/trailing space skipped); {NULL, NULL} when it is not valid JSON. */
struct jv json_root(const char *text, size_t len);
/* true when the value is the JSON string `s` written without escapes, e.g. json_is(v, "yes") */
int json_is(struct jv v, const char *s);
/* true when the value is an object with no members */
int json_empty_object(struct jv v);

/* The admission webhook paths of agnhost's `webhook` (porter-webhook.c). */
void webhook_serve(struct conn *c, const struct request *r);
/* The aggregated API (porter-apiservice.c); `hostname` names the one object it lists. */
void apiservice_serve(struct conn *c, const struct request *r, const char *hostname, const char *started);

#endif
