/*
 * porter's aggregated API mode (SERVE_APISERVICE_PORT): the least an extension API server needs
 * for an APIService to turn Available, show in discovery and answer `kubectl get` through the
 * API server. One group/version, porter.hawser.local/v1, with one cluster-scoped resource,
 * porters (kind Porter, verbs get and list), whose list always holds one object named after the
 * pod's hostname, so an answer shows which pod served it. /apis and /apis/<group> answer as an
 * aggregated server does; /healthz, /readyz and /livez answer "ok". Other requests get a
 * Kubernetes Status (404 NotFound, 405 MethodNotAllowed). It does not authenticate its callers:
 * the front-proxy headers are ignored and everyone may read the one fixed object.
 */
#include <stdio.h>
#include <string.h>
#include "porter.h"

#define GROUP "porter.hawser.local"
#define VERSION "v1"
#define GV GROUP "/" VERSION
#define MAX_ANSWER 2048

static const char GROUP_JSON[] =
	"{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"" GROUP "\",\"versions\":[{\"groupVersion\":\"" GV "\",\"version\":\"" VERSION "\"}],"
	"\"preferredVersion\":{\"groupVersion\":\"" GV "\",\"version\":\"" VERSION "\"}}";

static void status(struct conn *c, int code, const char *reason, const char *message) {
	char out[MAX_ANSWER];
	snprintf(out, sizeof out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}",
	         message, reason, code);
	respond_json(c, code, out);
}

/* One Porter object as JSON into out. */
static void porter_object(char *out, size_t size, const char *hostname, const char *started) {
	snprintf(out, size,
	         "{\"kind\":\"Porter\",\"apiVersion\":\"" GV "\",\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"1\",\"creationTimestamp\":\"%s\"},"
	         "\"spec\":{\"servedBy\":\"%s\"}}",
	         hostname, started, hostname);
}

void apiservice_serve(struct conn *c, const struct request *r, const char *hostname, const char *started) {
	const char *p = r->path;
	char out[MAX_ANSWER], obj[MAX_ANSWER / 2];
	if (strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0 || strcmp(p, "/livez") == 0)
		return respond(c, 200, "text/plain; charset=utf-8", "ok", 2);
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return status(c, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
	if (strcmp(p, "/apis") == 0) {
		snprintf(out, sizeof out, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[%s]}", GROUP_JSON);
		return respond_json(c, 200, out);
	}
	if (strcmp(p, "/apis/" GROUP) == 0) return respond_json(c, 200, GROUP_JSON);
	if (strcmp(p, "/apis/" GV) == 0)
		return respond_json(c, 200,
		                    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" GV "\",\"resources\":[{\"name\":\"porters\","
		                    "\"singularName\":\"porter\",\"namespaced\":false,\"kind\":\"Porter\",\"verbs\":[\"get\",\"list\"]}]}");
	porter_object(obj, sizeof obj, hostname, started);
	if (strcmp(p, "/apis/" GV "/porters") == 0) {
		snprintf(out, sizeof out, "{\"kind\":\"PorterList\",\"apiVersion\":\"" GV "\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[%s]}", obj);
		return respond_json(c, 200, out);
	}
	const char *item = "/apis/" GV "/porters/";
	if (strncmp(p, item, strlen(item)) == 0) {
		const char *name = p + strlen(item);
		if (strcmp(name, hostname) == 0) return respond_json(c, 200, obj);
		size_t n = strlen(name);
		if (n > 0 && n < 254 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n) {
			snprintf(out, sizeof out, "porters." GROUP " \\\"%s\\\" not found", name);
			return status(c, 404, "NotFound", out);
		}
	}
	status(c, 404, "NotFound", "the server could not find the requested resource");
}
