/*
 * porter's admission webhook mode (SERVE_WEBHOOK_PORT): the paths of agnhost's `webhook` that
 * upstream's AdmissionWebhook tests and hawser's lab tests call, with agnhost's texts. Each
 * POST carries an AdmissionReview; the answer is an AdmissionReview of the same apiVersion whose
 * response carries the request's uid, allowed, and a status (denials) or a base64 JSONPatch
 * (mutations). /readyz answers "ok" for a readiness probe.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "porter.h"

#define MAX_REVIEW 4096

/* One verdict: allowed, or denied with a status message or reason, with an optional JSONPatch. */
struct verdict {
	int allowed;
	const char *message;
	const char *reason;
	const char *patch;
};

static const struct verdict ALLOW = { 1, NULL, NULL, NULL };

/* agnhost's configmap.go: the unwanted key and value are denied on create and update, and on delete when marked nondeletable. */
static struct verdict admit_configmaps(struct jv req) {
	int del = json_is(json_get(req, "operation"), "DELETE");
	struct jv v = json_get(json_get(json_get(req, del ? "oldObject" : "object"), "data"), "webhook-e2e-test");
	if (!del && json_is(v, "webhook-disallow")) return (struct verdict){ 0, NULL, "the configmap contains unwanted key and value", NULL };
	if (del && json_is(v, "webhook-nondeletable"))
		return (struct verdict){ 0, NULL, "the configmap cannot be deleted because it contains unwanted key and value", NULL };
	return ALLOW;
}

/* agnhost's two stages: mutation-start gets mutation-stage-1, a configmap with stage 1 gets stage 2. */
static struct verdict mutate_configmaps(struct jv req) {
	struct jv data = json_get(json_get(req, "object"), "data");
	struct verdict v = ALLOW;
	if (json_is(json_get(data, "mutation-start"), "yes")) v.patch = "[{\"op\":\"add\",\"path\":\"/data/mutation-stage-1\",\"value\":\"yes\"}]";
	if (json_is(json_get(data, "mutation-stage-1"), "yes")) v.patch = "[{\"op\":\"add\",\"path\":\"/data/mutation-stage-2\",\"value\":\"yes\"}]";
	return v;
}

/* agnhost's addlabel.go: added-label=yes, added as the first label, beside others, or corrected. */
static struct verdict add_label(struct jv req) {
	struct jv labels = json_get(json_get(json_get(req, "object"), "metadata"), "labels");
	struct jv have = json_get(labels, "added-label");
	struct verdict v = ALLOW;
	if (!labels.start || json_empty_object(labels) || *labels.start == 'n')
		v.patch = "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"added-label\":\"yes\"}}]";
	else if (!have.start)
		v.patch = "[{\"op\":\"add\",\"path\":\"/metadata/labels/added-label\",\"value\":\"yes\"}]";
	else if (!json_is(have, "yes"))
		v.patch = "[{\"op\":\"replace\",\"path\":\"/metadata/labels/added-label\",\"value\":\"yes\"}]";
	return v;
}

static struct verdict always_deny(struct jv req) {
	(void)req;
	return (struct verdict){ 0, "this webhook denies all requests", NULL, NULL };
}

static struct verdict always_allow_delay_5s(struct jv req) {
	(void)req;
	struct timespec t = { .tv_sec = 5 };
	while (nanosleep(&t, &t) != 0) {
	}
	return ALLOW;
}

static const struct {
	const char *path;
	struct verdict (*admit)(struct jv req);
} ROUTES[] = {
	{ "/always-deny", always_deny },
	{ "/configmaps", admit_configmaps },
	{ "/mutating-configmaps", mutate_configmaps },
	{ "/add-label", add_label },
	{ "/always-allow-delay-5s", always_allow_delay_5s },
};

static void text(struct conn *c, int code, const char *msg) {
	respond(c, code, "text/plain; charset=utf-8", msg, strlen(msg));
}

void webhook_serve(struct conn *c, const struct request *r) {
	if (strcmp(r->path, "/readyz") == 0) return text(c, 200, "ok");
	struct verdict (*admit)(struct jv) = NULL;
	for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++)
		if (strcmp(r->path, ROUTES[i].path) == 0) admit = ROUTES[i].admit;
	if (!admit) return text(c, 404, "404 page not found\n");
	if (strcmp(r->method, "POST") != 0) return text(c, 405, "Method Not Allowed\n");
	if (!r->content_type || strncmp(r->content_type, "application/json", 16) != 0) return text(c, 400, "contentType must be application/json\n");
	struct jv review = json_root(r->body, r->len);
	struct jv req = json_get(review, "request");
	struct jv uid = json_get(req, "uid");
	struct jv api = json_get(review, "apiVersion");
	if (!json_is(json_get(review, "kind"), "AdmissionReview") || !uid.start || *uid.start != '"' || uid.end - uid.start > 256 ||
	    !(json_is(api, "admission.k8s.io/v1") || json_is(api, "admission.k8s.io/v1beta1")))
		return text(c, 400, "Request could not be decoded: not an AdmissionReview v1 or v1beta1 with a request uid\n");

	struct verdict v = admit(req);
	char out[MAX_REVIEW], status[512] = "", patch[512] = "";
	if (!v.allowed)
		snprintf(status, sizeof status, ",\"status\":{\"metadata\":{},\"%s\":\"%s\"}", v.message ? "message" : "reason", v.message ? v.message : v.reason);
	if (v.patch) {
		unsigned char b64[400];
		EVP_EncodeBlock(b64, (const unsigned char *)v.patch, (int)strlen(v.patch));
		snprintf(patch, sizeof patch, ",\"patchType\":\"JSONPatch\",\"patch\":\"%s\"", b64);
	}
	int n = snprintf(out, sizeof out, "{\"kind\":\"AdmissionReview\",\"apiVersion\":%.*s,\"response\":{\"uid\":%.*s,\"allowed\":%s%s%s}}",
	                 (int)(api.end - api.start), api.start, (int)(uid.end - uid.start), uid.start, v.allowed ? "true" : "false", status, patch);
	respond(c, 200, "application/json", out, (size_t)n);
}
