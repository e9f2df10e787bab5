/* plot.c — SVG latency/throughput plot (see plot.h). */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Geometry in SVG user units. */
#define W 1100.0
#define H 680.0
#define L 80.0       /* left margin: axis labels */
#define R 160.0      /* right margin: legend */
#define LAT_TOP 50.0
#define LAT_BOT 420.0
#define THR_TOP 470.0
#define THR_BOT 630.0

/* Beyond this many points a browser chokes; ok points are thinned, failures
 * and unknown outcomes are always drawn since they are the interesting ones. */
enum { MAX_POINTS = 40000 };

static const char *const f_colour[F_COUNT] = {"#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"};
/* Fault labels, and the same hues mixed with white for the shading: solid
 * colours, because not every SVG renderer honours opacity. */
static const char *const nem_colour[NEM_COUNT] = {
	"#7f7f7f", "#d62728", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#2ca02c", "#7f7f7f"};
static const char *const nem_shade[NEM_COUNT] = {
	"#eeeeee", "#f9dada", "#fbe6f4", "#d8f4f7", "#ece2df", "#f4f4d7", "#dcf0dc", "#eeeeee"};

typedef struct frame {
	double t_max;            /* seconds shown */
	double lat_lo, lat_hi;   /* log10(ms) range */
	double thr_hi;           /* ops/s range */
} frame;

static double xpos(const frame *fr, uint64_t t)
{
	return L + (W - L - R) * ((double)t / 1e9) / fr->t_max;
}

static double ypos_lat(const frame *fr, double ms)
{
	double l = log10(ms < 1e-3 ? 1e-3 : ms);
	double y = LAT_BOT - (LAT_BOT - LAT_TOP) * (l - fr->lat_lo) / (fr->lat_hi - fr->lat_lo);
	return y < LAT_TOP ? LAT_TOP : y > LAT_BOT ? LAT_BOT : y;
}

static double ypos_thr(const frame *fr, double v)
{
	return THR_BOT - (THR_BOT - THR_TOP) * v / fr->thr_hi;
}

static void set_frame(frame *fr, const wl_stats *s)
{
	uint64_t t_end = s->run_end;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < s->n; i++) {
		const wl_rec *r = &s->recs[i];
		if (r->end > t_end)
			t_end = r->end;
		double ms = (double)(r->end - r->start) / 1e6;
		if (ms < 1e-3)
			ms = 1e-3;
		lo = fmin(lo, log10(ms));
		hi = fmax(hi, log10(ms));
	}
	for (size_t i = 0; i < s->n_spans; i++)
		if (s->spans[i].end > t_end)
			t_end = s->spans[i].end;
	fr->thr_hi = 1; /* draw_throughput raises it to the busiest second */
	fr->t_max = (double)t_end / 1e9;
	if (fr->t_max <= 0)
		fr->t_max = 1;
	if (!isfinite(lo)) {
		lo = -1;
		hi = 3;
	}
	fr->lat_lo = floor(lo);
	fr->lat_hi = ceil(hi);
	if (fr->lat_hi <= fr->lat_lo)
		fr->lat_hi = fr->lat_lo + 1;
}

static void draw_spans(FILE *out, const frame *fr, const wl_stats *s)
{
	for (size_t i = 0; i < s->n_spans; i++) {
		const wl_span *sp = &s->spans[i];
		double x0 = xpos(fr, sp->start), x1 = xpos(fr, sp->end);
		fprintf(out,
			"<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'>"
			"<title>%s %.2f-%.2f s</title></rect>\n",
			x0, LAT_TOP, x1 - x0 > 0.5 ? x1 - x0 : 0.5, THR_BOT - LAT_TOP,
			nem_shade[sp->kind], wl_nemesis_name[sp->kind], (double)sp->start / 1e9,
			(double)sp->end / 1e9);
		fprintf(out, "<text x='%.1f' y='%.1f' font-size='10' fill='%s'>%s</text>\n", x0 + 2,
			LAT_TOP + 12, nem_colour[sp->kind], wl_nemesis_name[sp->kind]);
	}
}

static void draw_axes(FILE *out, const frame *fr)
{
	fprintf(out, "<g stroke='#000' fill='none'>"
		     "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/>"
		     "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f'/></g>\n",
		L, LAT_TOP, W - L - R, LAT_BOT - LAT_TOP, L, THR_TOP, W - L - R, THR_BOT - THR_TOP);
	/* Decades on the latency axis. */
	for (double d = fr->lat_lo; d <= fr->lat_hi + 1e-9; d += 1) {
		double y = ypos_lat(fr, pow(10, d));
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#ddd'/>"
			     "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%g ms</text>\n",
			L, W - R, y, y, L - 4, y + 4, pow(10, d));
	}
	/* About ten time ticks at a round step. */
	double step = pow(10, floor(log10(fr->t_max / 10)));
	if (fr->t_max / step > 20)
		step *= 5;
	else if (fr->t_max / step > 10)
		step *= 2;
	for (double t = 0; t <= fr->t_max + 1e-9; t += step) {
		double x = xpos(fr, (uint64_t)(t * 1e9));
		fprintf(out, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#eee'/>"
			     "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%g</text>\n",
			x, x, THR_TOP, THR_BOT, x, THR_BOT + 14, t);
	}
	fprintf(out, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle'>time (s)</text>\n",
		(L + W - R) / 2, THR_BOT + 32);
	fprintf(out, "<text x='%.1f' y='%.1f' font-size='13'>latency per operation (log scale; "
		     "fault intervals shaded)</text>\n", L, LAT_TOP - 6);
	fprintf(out, "<text x='%.1f' y='%.1f' font-size='13'>throughput per second "
		     "(answered: solid, fail+info: dashed)</text>\n", L, THR_TOP - 8);
	fprintf(out, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%.0f/s</text>"
		     "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>0</text>\n",
		L - 4, THR_TOP + 10, fr->thr_hi, L - 4, THR_BOT);
}

static void draw_points(FILE *out, const frame *fr, const wl_stats *s)
{
	size_t oks = 0;
	for (size_t i = 0; i < s->n; i++)
		oks += wl_rec_answered(&s->recs[i]);
	size_t stride = oks / MAX_POINTS + 1, seen = 0;
	for (size_t i = 0; i < s->n; i++) {
		const wl_rec *r = &s->recs[i];
		if (wl_rec_answered(r) && seen++ % stride != 0)
			continue;
		double x = xpos(fr, r->end);
		double y = ypos_lat(fr, (double)(r->end - r->start) / 1e6);
		const char *c = f_colour[r->f];
		if (wl_rec_answered(r))
			fprintf(out, "<circle cx='%.1f' cy='%.1f' r='1.6' fill='%s'/>\n", x, y, c);
		else if (r->type == OUT_FAIL)
			fprintf(out, "<circle cx='%.1f' cy='%.1f' r='3' fill='none' stroke='%s'/>\n",
				x, y, c);
		else
			fprintf(out, "<rect x='%.1f' y='%.1f' width='6' height='6' fill='none' "
				     "stroke='%s'/>\n", x - 3, y - 3, c);
	}
}

/* Completions per whole second, ok and not ok. 0, or -1 out of memory. */
static int draw_throughput(FILE *out, frame *fr, const wl_stats *s)
{
	size_t nb = (size_t)ceil(fr->t_max) + 1;
	double *ok = calloc(nb, sizeof *ok), *bad = calloc(nb, sizeof *bad);
	if (ok == NULL || bad == NULL) {
		free(ok);
		free(bad);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		size_t b = (size_t)(s->recs[i].end / 1000000000ULL);
		if (b < nb)
			*(wl_rec_answered(&s->recs[i]) ? &ok[b] : &bad[b]) += 1;
	}
	fr->thr_hi = 1;
	for (size_t b = 0; b < nb; b++)
		fr->thr_hi = fmax(fr->thr_hi, fmax(ok[b], bad[b]));
	for (int pass = 0; pass < 2; pass++) {
		double *v = pass ? bad : ok;
		fprintf(out, "<polyline fill='none' stroke='%s' %s points='", pass ? "#d62728" : "#000",
			pass ? "stroke-dasharray='4 3'" : "");
		for (size_t b = 0; b < nb; b++) {
			/* Each bucket drawn at its middle; the last, partial one as a
			 * rate over the part of the second that the run covered. */
			double width = fmin(1.0, fr->t_max - (double)b);
			if (width <= 0.05)
				break;
			double mid = (double)b + width / 2;
			fprintf(out, "%.1f,%.1f ", xpos(fr, (uint64_t)(mid * 1e9)),
				ypos_thr(fr, fmin(v[b] / width, fr->thr_hi)));
		}
		fprintf(out, "'/>\n");
	}
	free(ok);
	free(bad);
	return 0;
}

static void draw_legend(FILE *out, const wl_options *o)
{
	double x = W - R + 14, y = LAT_TOP + 10;
	for (int f = 0; f < F_COUNT; f++) {
		if (o->mix[f] == 0)
			continue;
		fprintf(out, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s'/>"
			     "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n",
			x, y, f_colour[f], x + 10, y + 4, wl_f_name[f]);
		y += 18;
	}
	fprintf(out, "<circle cx='%.1f' cy='%.1f' r='3' fill='none' stroke='#000'/>"
		     "<text x='%.1f' y='%.1f' font-size='12'>fail</text>\n", x, y + 6, x + 10, y + 10);
	/* Mismatched cas are answers, drawn filled like ok. */
	fprintf(out, "<rect x='%.1f' y='%.1f' width='6' height='6' fill='none' stroke='#000'/>"
		     "<text x='%.1f' y='%.1f' font-size='12'>info (unknown)</text>\n",
		x - 3, y + 21, x + 10, y + 28);
}

int plot_svg(const char *path, const wl_options *o, const wl_stats *s)
{
	FILE *out = fopen(path, "w");
	if (out == NULL) {
		fprintf(stderr, "raftkv-workload: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	frame fr;
	set_frame(&fr, s);
	fprintf(out, "<?xml version='1.0' encoding='UTF-8'?>\n"
		     "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
		     "viewBox='0 0 %.0f %.0f' font-family='sans-serif'>\n"
		     "<rect width='100%%' height='100%%' fill='#fff'/>\n", W, H, W, H);
	fprintf(out, "<text x='%.1f' y='20' font-size='14' font-weight='bold'>raftkv-workload: "
		     "%d clients, %zu nodes, nemesis %s</text>\n",
		L, o->clients, o->n_nodes, wl_nemesis_name[o->nemesis]);
	/* Later elements paint over earlier ones: shading at the back, points
	 * in front. Throughput goes before the axes, which label its scale. */
	draw_spans(out, &fr, s);
	int rc = draw_throughput(out, &fr, s);
	draw_axes(out, &fr);
	draw_points(out, &fr, s);
	draw_legend(out, o);
	fprintf(out, "</svg>\n");
	if (ferror(out))
		rc = -1;
	if (fclose(out) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "raftkv-workload: error writing %s\n", path);
	return rc;
}
