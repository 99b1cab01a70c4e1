/*
 * Just enough JSON for porter's webhook and aggregated-API modes: walk to a member of an object
 * and compare a string, without building a tree. Values are returned as raw byte ranges of the
 * request, so a string copied out (a request's uid) stays valid JSON as it was sent. Every scan
 * stops at the end of its range and nesting is bounded, so a hostile body cannot run it away.
 */
#include <string.h>
#include "porter.h"

#define MAX_DEPTH 64

static const struct jv NONE = { NULL, NULL };

static const char *space(const char *p, const char *end) {
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
	return p;
}

/* Past the end of the string starting at p (a '"'), or NULL when it does not close. */
static const char *skip_string(const char *p, const char *end) {
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"') return p + 1;
		if ((unsigned char)*p < 0x20) return NULL;
	}
	return NULL;
}

/* Past the end of the value starting at p, or NULL when it is not valid JSON. */
static const char *skip_value(const char *p, const char *end, int depth) {
	p = space(p, end);
	if (p >= end || depth > MAX_DEPTH) return NULL;
	if (*p == '"') return skip_string(p, end);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = space(p + 1, end);
		if (p < end && *p == close) return p + 1;
		while (p < end) {
			if (close == '}') {
				if (*p != '"' || !(p = skip_string(p, end))) return NULL;
				p = space(p, end);
				if (p >= end || *p != ':') return NULL;
				p++;
			}
			if (!(p = skip_value(p, end, depth + 1))) return NULL;
			p = space(p, end);
			if (p < end && *p == close) return p + 1;
			if (p >= end || *p != ',') return NULL;
			p = space(p + 1, end);
		}
		return NULL;
	}
	/* a number, true, false or null: a run of their characters */
	const char *s = p;
	while (p < end && strchr("0123456789+-.eEtruefalsn", *p)) p++;
	return p > s ? p : NULL;
}

struct jv json_root(const char *text, size_t len) {
	const char *end = text + len;
	const char *s = space(text, end);
	const char *e = skip_value(s, end, 0);
	if (!e || space(e, end) != end) return NONE;
	return (struct jv){ s, e };
}

struct jv json_get(struct jv obj, const char *key) {
	if (!obj.start || *obj.start != '{') return NONE;
	size_t klen = strlen(key);
	const char *p = space(obj.start + 1, obj.end), *end = obj.end;
	while (p < end && *p == '"') {
		const char *k = p;
		if (!(p = skip_string(p, end))) return NONE;
		int match = (size_t)(p - k) == klen + 2 && memcmp(k + 1, key, klen) == 0;
		p = space(p, end);
		if (p >= end || *p != ':') return NONE;
		const char *v = space(p + 1, end);
		if (!(p = skip_value(v, end, 1))) return NONE;
		if (match) return (struct jv){ v, p };
		p = space(p, end);
		if (p >= end || *p != ',') return NONE;
		p = space(p + 1, end);
	}
	return NONE;
}

int json_is(struct jv v, const char *s) {
	size_t n = strlen(s);
	return v.start && (size_t)(v.end - v.start) == n + 2 && v.start[0] == '"' && memcmp(v.start + 1, s, n) == 0;
}

int json_empty_object(struct jv v) {
	return v.start && *v.start == '{' && space(v.start + 1, v.end) == v.end - 1;
}
