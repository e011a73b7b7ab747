/* Motefile parsing: instructions, exec-form arrays, words with quotes and $VAR expansion; no I/O. */
#include "motefile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {
    [MOTEFILE_FROM] = "FROM",	    [MOTEFILE_COPY] = "COPY",	[MOTEFILE_ADD] = "ADD",
    [MOTEFILE_ENV] = "ENV",	    [MOTEFILE_CMD] = "CMD",	[MOTEFILE_ENTRYPOINT] = "ENTRYPOINT",
    [MOTEFILE_WORKDIR] = "WORKDIR", [MOTEFILE_LABEL] = "LABEL", [MOTEFILE_ANNOTATION] = "ANNOTATION",
    [MOTEFILE_ARG] = "ARG",
};

const char *motefile_kind_name(enum motefile_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

__attribute__((format(printf, 3, 4))) static int set_err(char *err, size_t size, const char *fmt, ...)
{
	if (err && size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A growing byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* A growing array of strings. */
struct strv {
	char **v;
	size_t n, cap;
	int oom;
};

static void strv_push(struct strv *s, char *str)
{
	if (!str || s->oom) {
		free(str);
		s->oom = 1;
		return;
	}
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			free(str);
			s->oom = 1;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void motefile_words_free(char **words)
{
	if (!words)
		return;
	for (char **w = words; *w; w++)
		free(*w);
	free(words);
}

static int is_name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static int is_name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

static int expand_into(const char *text, size_t len, motefile_lookup_fn lookup, void *ctx, struct buf *out,
		       char *err, size_t err_size);

/* Expand one $... at text[*i] (text[*i] == '$') into out; advances *i. */
static int expand_var(const char *text, size_t len, size_t *i, motefile_lookup_fn lookup, void *ctx,
		      struct buf *out, char *err, size_t err_size)
{
	size_t j = *i + 1;
	if (j < len && text[j] == '{') {
		size_t name = j + 1, k = name;
		while (k < len && is_name_char(text[k]))
			k++;
		if (k == name || !is_name_start(text[name]))
			return set_err(err, err_size, "bad variable reference after '${'");
		const char *val = lookup ? lookup(ctx, text + name, k - name) : NULL;
		if (k < len && text[k] == '}') {
			if (val)
				buf_add(out, val, strlen(val));
			*i = k + 1;
			return 0;
		}
		if (k + 1 >= len || text[k] != ':' || (text[k + 1] != '-' && text[k + 1] != '+'))
			return set_err(err, err_size,
				       "bad variable reference: ${NAME}, ${NAME:-word} or ${NAME:+word}");
		char op = text[k + 1];
		size_t w = k + 2, e = w;
		int depth = 0;
		while (e < len && (text[e] != '}' || depth)) {
			if (text[e] == '{')
				depth++;
			else if (text[e] == '}')
				depth--;
			e++;
		}
		if (e >= len)
			return set_err(err, err_size, "unterminated '${'");
		int set = val && *val;
		if ((op == '-' && !set) || (op == '+' && set)) {
			if (expand_into(text + w, e - w, lookup, ctx, out, err, err_size) < 0)
				return -1;
		} else if (op == '-') {
			buf_add(out, val, strlen(val));
		}
		*i = e + 1;
		return 0;
	}
	if (j < len && is_name_start(text[j])) {
		size_t k = j;
		while (k < len && is_name_char(text[k]))
			k++;
		const char *val = lookup ? lookup(ctx, text + j, k - j) : NULL;
		if (val)
			buf_add(out, val, strlen(val));
		*i = k;
		return 0;
	}
	buf_addc(out, '$'); /* a lone '$' stays */
	*i = j;
	return 0;
}

/* Expand variables in a word of a ${NAME:-word} default (no quote removal, '\' escapes '$'). */
static int expand_into(const char *text, size_t len, motefile_lookup_fn lookup, void *ctx, struct buf *out,
		       char *err, size_t err_size)
{
	size_t i = 0;
	while (i < len) {
		if (text[i] == '\\' && i + 1 < len) {
			buf_addc(out, text[i + 1]);
			i += 2;
		} else if (text[i] == '$') {
			if (expand_var(text, len, &i, lookup, ctx, out, err, err_size) < 0)
				return -1;
		} else {
			buf_addc(out, text[i++]);
		}
	}
	return 0;
}

int motefile_words(const char *text, motefile_lookup_fn lookup, void *ctx, char ***words, size_t *n,
		   char *err, size_t err_size)
{
	struct strv sv = {0};
	struct buf w = {0};
	size_t len = strlen(text), i = 0;
	int in_word = 0, rc = -1;
	*words = NULL;
	*n = 0;
	while (i < len) {
		char c = text[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word) {
				strv_push(&sv, w.oom ? NULL : (w.p ? w.p : strdup("")));
				w = (struct buf){0};
				in_word = 0;
			}
			i++;
			continue;
		}
		in_word = 1;
		if (c == '\\') {
			if (i + 1 < len)
				buf_addc(&w, text[i + 1]);
			i += 2;
		} else if (c == '\'') {
			size_t e = i + 1;
			while (e < len && text[e] != '\'')
				e++;
			if (e >= len) {
				set_err(err, err_size, "unterminated single quote");
				goto out;
			}
			buf_add(&w, text + i + 1, e - i - 1);
			if (!w.p)
				buf_add(&w, "", 0);
			i = e + 1;
		} else if (c == '"') {
			i++;
			if (!w.p)
				buf_add(&w, "", 0);
			while (i < len && text[i] != '"') {
				if (text[i] == '\\' && i + 1 < len &&
				    (text[i + 1] == '"' || text[i + 1] == '\\' || text[i + 1] == '$')) {
					buf_addc(&w, text[i + 1]);
					i += 2;
				} else if (text[i] == '$') {
					if (expand_var(text, len, &i, lookup, ctx, &w, err, err_size) < 0)
						goto out;
				} else {
					buf_addc(&w, text[i++]);
				}
			}
			if (i >= len) {
				set_err(err, err_size, "unterminated double quote");
				goto out;
			}
			i++;
		} else if (c == '$') {
			if (expand_var(text, len, &i, lookup, ctx, &w, err, err_size) < 0)
				goto out;
			if (!w.p)
				buf_add(&w, "", 0);
		} else {
			buf_addc(&w, c);
			i++;
		}
	}
	if (in_word)
		strv_push(&sv, w.oom ? NULL : (w.p ? w.p : strdup("")));
	else
		free(w.p);
	w = (struct buf){0};
	if (sv.oom || w.oom) {
		set_err(err, err_size, "out of memory");
		goto out;
	}
	if (!sv.v) {
		sv.v = calloc(1, sizeof(char *));
		if (!sv.v) {
			set_err(err, err_size, "out of memory");
			goto out;
		}
	}
	*words = sv.v;
	*n = sv.n;
	sv.v = NULL;
	rc = 0;
out:
	free(w.p);
	motefile_words_free(sv.v);
	return rc;
}

/* Append the UTF-8 encoding of code point cp. */
static void put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, u, 4);
	}
}

static int hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int k = 0; k < 4; k++) {
		char c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parse a JSON array of strings (the whole of `s`); 1 if it is one, 0 if not, -1 with err if malformed. */
static int parse_exec_form(const char *s, struct strv *sv, char *err, size_t err_size)
{
	size_t len = strlen(s), i = 1;
	if (!len || s[0] != '[')
		return 0;
#define SKIP_WS()                                                                                            \
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))                     \
	i++
	SKIP_WS();
	if (i < len && s[i] == ']') {
		i++;
		SKIP_WS();
		return i == len ? 1
				: set_err(err, err_size, "text after the closing ']' of the exec-form array");
	}
	for (;;) {
		SKIP_WS();
		if (i >= len || s[i] != '"')
			return set_err(err, err_size, "exec form: expected a \"string\" in the [...] array");
		i++;
		struct buf b = {0};
		buf_add(&b, "", 0);
		while (i < len && s[i] != '"') {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20) {
				free(b.p);
				return set_err(err, err_size, "exec form: control character in a string");
			}
			if (c != '\\') {
				buf_addc(&b, (char)c);
				i++;
				continue;
			}
			if (i + 1 >= len)
				break;
			char e = s[i + 1];
			i += 2;
			switch (e) {
			case '"': buf_addc(&b, '"'); break;
			case '\\': buf_addc(&b, '\\'); break;
			case '/': buf_addc(&b, '/'); break;
			case 'b': buf_addc(&b, '\b'); break;
			case 'f': buf_addc(&b, '\f'); break;
			case 'n': buf_addc(&b, '\n'); break;
			case 'r': buf_addc(&b, '\r'); break;
			case 't': buf_addc(&b, '\t'); break;
			case 'u': {
				uint32_t cp;
				if (i + 4 > len || hex4(s + i, &cp) < 0) {
					free(b.p);
					return set_err(err, err_size, "exec form: bad \\u escape");
				}
				i += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= len && s[i] == '\\' &&
				    s[i + 1] == 'u') {
					uint32_t lo;
					if (hex4(s + i + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						i += 6;
					}
				}
				if (cp == 0 || (cp >= 0xd800 && cp < 0xe000)) {
					free(b.p);
					return set_err(err, err_size,
						       "exec form: \\u escape of NUL or a lone surrogate");
				}
				put_utf8(&b, cp);
				break;
			}
			default: free(b.p); return set_err(err, err_size, "exec form: bad escape '\\%c'", e);
			}
		}
		if (i >= len) {
			free(b.p);
			return set_err(err, err_size, "exec form: unterminated string");
		}
		i++;
		if (b.oom) {
			free(b.p);
			return set_err(err, err_size, "out of memory");
		}
		strv_push(sv, b.p);
		SKIP_WS();
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && s[i] == ']') {
			i++;
			SKIP_WS();
			if (i != len)
				return set_err(err, err_size,
					       "text after the closing ']' of the exec-form array");
			return sv->oom ? set_err(err, err_size, "out of memory") : 1;
		}
		return set_err(err, err_size, "exec form: expected ',' or ']'");
	}
#undef SKIP_WS
}

static int kind_of(const char *word, size_t n)
{
	for (size_t k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (strlen(kind_names[k]) == n && !strncasecmp(word, kind_names[k], n))
			return (int)k;
	return -1;
}

/* Instructions of Dockerfiles that mote build does not have, with the reason given. */
static const char *unsupported_reason(const char *word, size_t n)
{
	static const struct {
		const char *name, *why;
	} known[] = {
	    {"RUN",
	     "mote build runs no commands (a unikernel image has no shell): build the program on the host "
	     "and COPY it"},
	    {"SHELL", "a unikernel image has no shell"},
	    {"HEALTHCHECK", "not supported"},
	    {"ONBUILD", "not supported"},
	    {"EXPOSE", "not supported yet"},
	    {"USER", "not supported yet (the program runs as the VM's only user)"},
	    {"VOLUME", "not supported yet"},
	    {"STOPSIGNAL", "not supported yet"},
	    {"MAINTAINER", "deprecated: use LABEL maintainer=..."},
	};
	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (strlen(known[k].name) == n && !strncasecmp(word, known[k].name, n))
			return known[k].why;
	return NULL;
}

static void free_inst(struct motefile_inst *in)
{
	motefile_words_free(in->argv);
	free(in->text);
}

void motefile_free(struct motefile *mf)
{
	for (size_t i = 0; i < mf->n; i++)
		free_inst(&mf->inst[i]);
	free(mf->inst);
	mf->inst = NULL;
	mf->n = 0;
}

/* Check and store one logical line (keyword + arguments) as an instruction. */
static int add_instruction(struct motefile *mf, size_t *cap, const char *logical, unsigned line, char *err,
			   size_t err_size)
{
	const char *p = logical;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *kw = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	size_t kwlen = (size_t)(p - kw);
	int kind = kind_of(kw, kwlen);
	if (kind < 0) {
		const char *why = unsupported_reason(kw, kwlen);
		if (why)
			return set_err(err, err_size, "%.*s: %s", (int)(kwlen > 40 ? 40 : kwlen), kw, why);
		int printable = 1;
		for (size_t k = 0; k < kwlen && k < 40; k++)
			if (!isprint((unsigned char)kw[k]))
				printable = 0;
		if (!printable)
			return set_err(err, err_size, "unknown instruction (not printable text)");
		return set_err(err, err_size, "unknown instruction '%.*s'", (int)(kwlen > 40 ? 40 : kwlen),
			       kw);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	size_t alen = strlen(p);
	while (alen && (p[alen - 1] == ' ' || p[alen - 1] == '\t' || p[alen - 1] == '\r'))
		alen--;
	struct motefile_inst in = {.kind = (enum motefile_kind)kind, .line = line};
	in.text = strndup(p, alen);
	if (!in.text)
		return set_err(err, err_size, "out of memory");
	const char *name = kind_names[kind];
	if (!alen && kind != MOTEFILE_CMD && kind != MOTEFILE_ENTRYPOINT) {
		free_inst(&in);
		return set_err(err, err_size, "%s needs arguments", name);
	}
	if (kind == MOTEFILE_CMD || kind == MOTEFILE_ENTRYPOINT || kind == MOTEFILE_COPY ||
	    kind == MOTEFILE_ADD) {
		struct strv sv = {0};
		int r = alen ? parse_exec_form(in.text, &sv, err, err_size) : 0;
		if (r < 0) {
			motefile_words_free(sv.v);
			free_inst(&in);
			return -1;
		}
		if (r == 1) {
			in.exec_form = 1;
			if (!sv.v && !(sv.v = calloc(1, sizeof(char *)))) {
				free_inst(&in);
				return set_err(err, err_size, "out of memory");
			}
			in.argv = sv.v;
			in.argc = sv.n;
		} else if (kind == MOTEFILE_CMD || kind == MOTEFILE_ENTRYPOINT) {
			free_inst(&in);
			return set_err(err, err_size,
				       "%s in shell form: a unikernel image has no shell; use the exec form "
				       "%s [\"/program\", \"arg\"...]",
				       name, name);
		}
		if ((kind == MOTEFILE_COPY || kind == MOTEFILE_ADD) && in.exec_form && in.argc < 2) {
			free_inst(&in);
			return set_err(err, err_size, "%s needs a source and a destination", name);
		}
	}
	if (!in.exec_form) {
		char **words;
		size_t n;
		if (motefile_words(in.text, NULL, NULL, &words, &n, err, err_size) < 0) {
			free_inst(&in);
			return -1;
		}
		motefile_words_free(words);
		if ((kind == MOTEFILE_COPY || kind == MOTEFILE_ADD) && n < 2) {
			free_inst(&in);
			return set_err(err, err_size, "%s needs a source and a destination", name);
		}
	}
	if (mf->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct motefile_inst *v = realloc(mf->inst, ncap * sizeof(*v));
		if (!v) {
			free_inst(&in);
			return set_err(err, err_size, "out of memory");
		}
		mf->inst = v;
		*cap = ncap;
	}
	mf->inst[mf->n++] = in;
	return 0;
}

int motefile_parse(const char *text, size_t len, struct motefile *mf, unsigned *err_line, char *err,
		   size_t err_size)
{
	size_t cap = 0, i = 0;
	unsigned line = 0, start_line = 0;
	struct buf logical = {0};
	int have = 0;
	*mf = (struct motefile){0};
	*err_line = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		line++;
		const char *l = text + i;
		size_t n = e - i;
		i = e < len ? e + 1 : e;
		if (memchr(l, 0, n)) {
			*err_line = line;
			set_err(err, err_size, "NUL byte in the Motefile");
			goto fail;
		}
		size_t s = 0;
		while (s < n && (l[s] == ' ' || l[s] == '\t' || l[s] == '\r'))
			s++;
		if (s == n || l[s] == '#')
			continue; /* blank and comment lines, also inside a continuation */
		size_t t = n;
		while (t > s && (l[t - 1] == ' ' || l[t - 1] == '\t' || l[t - 1] == '\r'))
			t--;
		int cont = t > s && l[t - 1] == '\\';
		if (!have) {
			start_line = line;
			have = 1;
		}
		buf_add(&logical, l + s, (cont ? t - 1 : t) - s);
		if (cont) {
			buf_addc(&logical, ' ');
			continue;
		}
		if (logical.oom) {
			*err_line = start_line;
			set_err(err, err_size, "out of memory");
			goto fail;
		}
		if (add_instruction(mf, &cap, logical.p, start_line, err, err_size) < 0) {
			*err_line = start_line;
			goto fail;
		}
		logical.len = 0;
		have = 0;
	}
	if (have) {
		if (logical.oom) {
			*err_line = start_line;
			set_err(err, err_size, "out of memory");
			goto fail;
		}
		if (add_instruction(mf, &cap, logical.p, start_line, err, err_size) < 0) {
			*err_line = start_line;
			goto fail;
		}
	}
	free(logical.p);
	if (!mf->n) {
		*err_line = line ? line : 1;
		return set_err(err, err_size, "no instructions (a Motefile starts with FROM)");
	}
	return 0;
fail:
	free(logical.p);
	motefile_free(mf);
	return -1;
}
