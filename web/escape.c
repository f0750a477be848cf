/* tornado.escape (Tornado 6.5): xhtml_escape/unescape (html.escape/unescape), url_escape,
 * json_encode/decode over jansson, squeeze, linkify (Tornado's _URL_RE, run by PCRE2). */
#include "core/utf8.h"
#include "web/escape.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <locale.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/query.h"

/* ---- UTF-8 -------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1-4) with its code point in *cp, or 0 when the
 * bytes are not one (truncated, overlong, surrogate, above U+10FFFF). */
static size_t utf8_encode(char *w, uint32_t c)
{
    if (c < 0x80) {
        w[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        w[0] = (char)(0xc0 | c >> 6);
        w[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        w[0] = (char)(0xe0 | c >> 12);
        w[1] = (char)(0x80 | (c >> 6 & 0x3f));
        w[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    w[0] = (char)(0xf0 | c >> 18);
    w[1] = (char)(0x80 | (c >> 12 & 0x3f));
    w[2] = (char)(0x80 | (c >> 6 & 0x3f));
    w[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static void buf_put_cp(tp_buf *b, uint32_t c)
{
    tp_buf_commit(b, utf8_encode(tp_buf_reserve(b, 4), c));
}

/* Python counts characters, not bytes: the number of code points in n bytes of valid UTF-8. */
static size_t cp_count(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xc0) != 0x80;
    return k;
}

/* Bytes taken by the first k code points of the n bytes at p (all n if there are fewer). */
static size_t cp_prefix(const char *p, size_t n, size_t k)
{
    size_t i = 0;
    for (; i < n && k; k--)
        for (i++; i < n && ((unsigned char)p[i] & 0xc0) == 0x80;)
            i++;
    return i;
}

bool tp_utf8_valid(tp_slice s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    uint32_t c;
    for (size_t i = 0, len; i < s.n; i += len)
        if ((len = tp_utf8_decode(p + i, s.n - i, &c)) == 0)
            return false;
    return true;
}

/* The buffer's bytes as a NUL-terminated arena copy; the buffer is freed. */
static tp_slice buf_to_arena(tp_arena *a, tp_buf *b)
{
    tp_slice s = tp_arena_slice_dup(a, b->len ? tp_buf_slice(b) : TP_SLICE_LIT(""));
    tp_buf_free(b);
    return s;
}

static void buf_put_slice(tp_buf *b, tp_slice s)
{
    if (s.n)
        tp_buf_append(b, s.p, s.n);
}

/* ---- xhtml_escape ------------------------------------------------------------------------- */

static const char *xhtml_entity(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#x27;";
    default: return NULL;
    }
}

tp_slice tp_xhtml_escape(tp_arena *a, tp_slice s)
{
    size_t n = s.n;
    const char *e;
    for (size_t i = 0; i < s.n; i++)
        if ((e = xhtml_entity((unsigned char)s.p[i])))
            n += strlen(e) - 1;
    char *out = tp_arena_alloc(a, n + 1), *w = out;
    for (size_t i = 0; i < s.n; i++) {
        if ((e = xhtml_entity((unsigned char)s.p[i]))) {
            size_t k = strlen(e);
            memcpy(w, e, k);
            w += k;
        } else {
            *w++ = s.p[i];
        }
    }
    *w = '\0';
    return (tp_slice){out, n};
}

/* ---- xhtml_unescape ----------------------------------------------------------------------- */

/* HTML5's named character references (Python's html.entities.html5, 2231 names): one row per
 * name without its ';', the one or two code points it stands for, and whether the name is
 * also recognised without the ';' (the 106 legacy names such as "amp" or "eacute"). Sorted
 * by bytes for the binary search. Generated from Python 3.11's table. */
typedef struct html_entity {
    const char *name;
    uint32_t cp1, cp2; /* cp2 0 when the reference is one code point */
    unsigned char bare;
} html_entity;

// clang-format off
#define E(n, c)     {n, c, 0, 0}
#define E2(n, c, d) {n, c, d, 0}
#define L(n, c)     {n, c, 0, 1}
static const html_entity html_entities[] = {
    L("AElig", 0xc6), L("AMP", 0x26), L("Aacute", 0xc1), E("Abreve", 0x102), L("Acirc", 0xc2),
    E("Acy", 0x410), E("Afr", 0x1d504), L("Agrave", 0xc0), E("Alpha", 0x391), E("Amacr", 0x100),
    E("And", 0x2a53), E("Aogon", 0x104), E("Aopf", 0x1d538), E("ApplyFunction", 0x2061),
    L("Aring", 0xc5), E("Ascr", 0x1d49c), E("Assign", 0x2254), L("Atilde", 0xc3), L("Auml", 0xc4),
    E("Backslash", 0x2216), E("Barv", 0x2ae7), E("Barwed", 0x2306), E("Bcy", 0x411),
    E("Because", 0x2235), E("Bernoullis", 0x212c), E("Beta", 0x392), E("Bfr", 0x1d505),
    E("Bopf", 0x1d539), E("Breve", 0x2d8), E("Bscr", 0x212c), E("Bumpeq", 0x224e),
    E("CHcy", 0x427), L("COPY", 0xa9), E("Cacute", 0x106), E("Cap", 0x22d2),
    E("CapitalDifferentialD", 0x2145), E("Cayleys", 0x212d), E("Ccaron", 0x10c), L("Ccedil", 0xc7),
    E("Ccirc", 0x108), E("Cconint", 0x2230), E("Cdot", 0x10a), E("Cedilla", 0xb8),
    E("CenterDot", 0xb7), E("Cfr", 0x212d), E("Chi", 0x3a7), E("CircleDot", 0x2299),
    E("CircleMinus", 0x2296), E("CirclePlus", 0x2295), E("CircleTimes", 0x2297),
    E("ClockwiseContourIntegral", 0x2232), E("CloseCurlyDoubleQuote", 0x201d),
    E("CloseCurlyQuote", 0x2019), E("Colon", 0x2237), E("Colone", 0x2a74), E("Congruent", 0x2261),
    E("Conint", 0x222f), E("ContourIntegral", 0x222e), E("Copf", 0x2102), E("Coproduct", 0x2210),
    E("CounterClockwiseContourIntegral", 0x2233), E("Cross", 0x2a2f), E("Cscr", 0x1d49e),
    E("Cup", 0x22d3), E("CupCap", 0x224d), E("DD", 0x2145), E("DDotrahd", 0x2911),
    E("DJcy", 0x402), E("DScy", 0x405), E("DZcy", 0x40f), E("Dagger", 0x2021), E("Darr", 0x21a1),
    E("Dashv", 0x2ae4), E("Dcaron", 0x10e), E("Dcy", 0x414), E("Del", 0x2207), E("Delta", 0x394),
    E("Dfr", 0x1d507), E("DiacriticalAcute", 0xb4), E("DiacriticalDot", 0x2d9),
    E("DiacriticalDoubleAcute", 0x2dd), E("DiacriticalGrave", 0x60), E("DiacriticalTilde", 0x2dc),
    E("Diamond", 0x22c4), E("DifferentialD", 0x2146), E("Dopf", 0x1d53b), E("Dot", 0xa8),
    E("DotDot", 0x20dc), E("DotEqual", 0x2250), E("DoubleContourIntegral", 0x222f),
    E("DoubleDot", 0xa8), E("DoubleDownArrow", 0x21d3), E("DoubleLeftArrow", 0x21d0),
    E("DoubleLeftRightArrow", 0x21d4), E("DoubleLeftTee", 0x2ae4),
    E("DoubleLongLeftArrow", 0x27f8), E("DoubleLongLeftRightArrow", 0x27fa),
    E("DoubleLongRightArrow", 0x27f9), E("DoubleRightArrow", 0x21d2), E("DoubleRightTee", 0x22a8),
    E("DoubleUpArrow", 0x21d1), E("DoubleUpDownArrow", 0x21d5), E("DoubleVerticalBar", 0x2225),
    E("DownArrow", 0x2193), E("DownArrowBar", 0x2913), E("DownArrowUpArrow", 0x21f5),
    E("DownBreve", 0x311), E("DownLeftRightVector", 0x2950), E("DownLeftTeeVector", 0x295e),
    E("DownLeftVector", 0x21bd), E("DownLeftVectorBar", 0x2956), E("DownRightTeeVector", 0x295f),
    E("DownRightVector", 0x21c1), E("DownRightVectorBar", 0x2957), E("DownTee", 0x22a4),
    E("DownTeeArrow", 0x21a7), E("Downarrow", 0x21d3), E("Dscr", 0x1d49f), E("Dstrok", 0x110),
    E("ENG", 0x14a), L("ETH", 0xd0), L("Eacute", 0xc9), E("Ecaron", 0x11a), L("Ecirc", 0xca),
    E("Ecy", 0x42d), E("Edot", 0x116), E("Efr", 0x1d508), L("Egrave", 0xc8), E("Element", 0x2208),
    E("Emacr", 0x112), E("EmptySmallSquare", 0x25fb), E("EmptyVerySmallSquare", 0x25ab),
    E("Eogon", 0x118), E("Eopf", 0x1d53c), E("Epsilon", 0x395), E("Equal", 0x2a75),
    E("EqualTilde", 0x2242), E("Equilibrium", 0x21cc), E("Escr", 0x2130), E("Esim", 0x2a73),
    E("Eta", 0x397), L("Euml", 0xcb), E("Exists", 0x2203), E("ExponentialE", 0x2147),
    E("Fcy", 0x424), E("Ffr", 0x1d509), E("FilledSmallSquare", 0x25fc),
    E("FilledVerySmallSquare", 0x25aa), E("Fopf", 0x1d53d), E("ForAll", 0x2200),
    E("Fouriertrf", 0x2131), E("Fscr", 0x2131), E("GJcy", 0x403), L("GT", 0x3e), E("Gamma", 0x393),
    E("Gammad", 0x3dc), E("Gbreve", 0x11e), E("Gcedil", 0x122), E("Gcirc", 0x11c), E("Gcy", 0x413),
    E("Gdot", 0x120), E("Gfr", 0x1d50a), E("Gg", 0x22d9), E("Gopf", 0x1d53e),
    E("GreaterEqual", 0x2265), E("GreaterEqualLess", 0x22db), E("GreaterFullEqual", 0x2267),
    E("GreaterGreater", 0x2aa2), E("GreaterLess", 0x2277), E("GreaterSlantEqual", 0x2a7e),
    E("GreaterTilde", 0x2273), E("Gscr", 0x1d4a2), E("Gt", 0x226b), E("HARDcy", 0x42a),
    E("Hacek", 0x2c7), E("Hat", 0x5e), E("Hcirc", 0x124), E("Hfr", 0x210c),
    E("HilbertSpace", 0x210b), E("Hopf", 0x210d), E("HorizontalLine", 0x2500), E("Hscr", 0x210b),
    E("Hstrok", 0x126), E("HumpDownHump", 0x224e), E("HumpEqual", 0x224f), E("IEcy", 0x415),
    E("IJlig", 0x132), E("IOcy", 0x401), L("Iacute", 0xcd), L("Icirc", 0xce), E("Icy", 0x418),
    E("Idot", 0x130), E("Ifr", 0x2111), L("Igrave", 0xcc), E("Im", 0x2111), E("Imacr", 0x12a),
    E("ImaginaryI", 0x2148), E("Implies", 0x21d2), E("Int", 0x222c), E("Integral", 0x222b),
    E("Intersection", 0x22c2), E("InvisibleComma", 0x2063), E("InvisibleTimes", 0x2062),
    E("Iogon", 0x12e), E("Iopf", 0x1d540), E("Iota", 0x399), E("Iscr", 0x2110), E("Itilde", 0x128),
    E("Iukcy", 0x406), L("Iuml", 0xcf), E("Jcirc", 0x134), E("Jcy", 0x419), E("Jfr", 0x1d50d),
    E("Jopf", 0x1d541), E("Jscr", 0x1d4a5), E("Jsercy", 0x408), E("Jukcy", 0x404),
    E("KHcy", 0x425), E("KJcy", 0x40c), E("Kappa", 0x39a), E("Kcedil", 0x136), E("Kcy", 0x41a),
    E("Kfr", 0x1d50e), E("Kopf", 0x1d542), E("Kscr", 0x1d4a6), E("LJcy", 0x409), L("LT", 0x3c),
    E("Lacute", 0x139), E("Lambda", 0x39b), E("Lang", 0x27ea), E("Laplacetrf", 0x2112),
    E("Larr", 0x219e), E("Lcaron", 0x13d), E("Lcedil", 0x13b), E("Lcy", 0x41b),
    E("LeftAngleBracket", 0x27e8), E("LeftArrow", 0x2190), E("LeftArrowBar", 0x21e4),
    E("LeftArrowRightArrow", 0x21c6), E("LeftCeiling", 0x2308), E("LeftDoubleBracket", 0x27e6),
    E("LeftDownTeeVector", 0x2961), E("LeftDownVector", 0x21c3), E("LeftDownVectorBar", 0x2959),
    E("LeftFloor", 0x230a), E("LeftRightArrow", 0x2194), E("LeftRightVector", 0x294e),
    E("LeftTee", 0x22a3), E("LeftTeeArrow", 0x21a4), E("LeftTeeVector", 0x295a),
    E("LeftTriangle", 0x22b2), E("LeftTriangleBar", 0x29cf), E("LeftTriangleEqual", 0x22b4),
    E("LeftUpDownVector", 0x2951), E("LeftUpTeeVector", 0x2960), E("LeftUpVector", 0x21bf),
    E("LeftUpVectorBar", 0x2958), E("LeftVector", 0x21bc), E("LeftVectorBar", 0x2952),
    E("Leftarrow", 0x21d0), E("Leftrightarrow", 0x21d4), E("LessEqualGreater", 0x22da),
    E("LessFullEqual", 0x2266), E("LessGreater", 0x2276), E("LessLess", 0x2aa1),
    E("LessSlantEqual", 0x2a7d), E("LessTilde", 0x2272), E("Lfr", 0x1d50f), E("Ll", 0x22d8),
    E("Lleftarrow", 0x21da), E("Lmidot", 0x13f), E("LongLeftArrow", 0x27f5),
    E("LongLeftRightArrow", 0x27f7), E("LongRightArrow", 0x27f6), E("Longleftarrow", 0x27f8),
    E("Longleftrightarrow", 0x27fa), E("Longrightarrow", 0x27f9), E("Lopf", 0x1d543),
    E("LowerLeftArrow", 0x2199), E("LowerRightArrow", 0x2198), E("Lscr", 0x2112), E("Lsh", 0x21b0),
    E("Lstrok", 0x141), E("Lt", 0x226a), E("Map", 0x2905), E("Mcy", 0x41c),
    E("MediumSpace", 0x205f), E("Mellintrf", 0x2133), E("Mfr", 0x1d510), E("MinusPlus", 0x2213),
    E("Mopf", 0x1d544), E("Mscr", 0x2133), E("Mu", 0x39c), E("NJcy", 0x40a), E("Nacute", 0x143),
    E("Ncaron", 0x147), E("Ncedil", 0x145), E("Ncy", 0x41d), E("NegativeMediumSpace", 0x200b),
    E("NegativeThickSpace", 0x200b), E("NegativeThinSpace", 0x200b),
    E("NegativeVeryThinSpace", 0x200b), E("NestedGreaterGreater", 0x226b),
    E("NestedLessLess", 0x226a), E("NewLine", 0xa), E("Nfr", 0x1d511), E("NoBreak", 0x2060),
    E("NonBreakingSpace", 0xa0), E("Nopf", 0x2115), E("Not", 0x2aec), E("NotCongruent", 0x2262),
    E("NotCupCap", 0x226d), E("NotDoubleVerticalBar", 0x2226), E("NotElement", 0x2209),
    E("NotEqual", 0x2260), E2("NotEqualTilde", 0x2242, 0x338), E("NotExists", 0x2204),
    E("NotGreater", 0x226f), E("NotGreaterEqual", 0x2271),
    E2("NotGreaterFullEqual", 0x2267, 0x338), E2("NotGreaterGreater", 0x226b, 0x338),
    E("NotGreaterLess", 0x2279), E2("NotGreaterSlantEqual", 0x2a7e, 0x338),
    E("NotGreaterTilde", 0x2275), E2("NotHumpDownHump", 0x224e, 0x338),
    E2("NotHumpEqual", 0x224f, 0x338), E("NotLeftTriangle", 0x22ea),
    E2("NotLeftTriangleBar", 0x29cf, 0x338), E("NotLeftTriangleEqual", 0x22ec),
    E("NotLess", 0x226e), E("NotLessEqual", 0x2270), E("NotLessGreater", 0x2278),
    E2("NotLessLess", 0x226a, 0x338), E2("NotLessSlantEqual", 0x2a7d, 0x338),
    E("NotLessTilde", 0x2274), E2("NotNestedGreaterGreater", 0x2aa2, 0x338),
    E2("NotNestedLessLess", 0x2aa1, 0x338), E("NotPrecedes", 0x2280),
    E2("NotPrecedesEqual", 0x2aaf, 0x338), E("NotPrecedesSlantEqual", 0x22e0),
    E("NotReverseElement", 0x220c), E("NotRightTriangle", 0x22eb),
    E2("NotRightTriangleBar", 0x29d0, 0x338), E("NotRightTriangleEqual", 0x22ed),
    E2("NotSquareSubset", 0x228f, 0x338), E("NotSquareSubsetEqual", 0x22e2),
    E2("NotSquareSuperset", 0x2290, 0x338), E("NotSquareSupersetEqual", 0x22e3),
    E2("NotSubset", 0x2282, 0x20d2), E("NotSubsetEqual", 0x2288), E("NotSucceeds", 0x2281),
    E2("NotSucceedsEqual", 0x2ab0, 0x338), E("NotSucceedsSlantEqual", 0x22e1),
    E2("NotSucceedsTilde", 0x227f, 0x338), E2("NotSuperset", 0x2283, 0x20d2),
    E("NotSupersetEqual", 0x2289), E("NotTilde", 0x2241), E("NotTildeEqual", 0x2244),
    E("NotTildeFullEqual", 0x2247), E("NotTildeTilde", 0x2249), E("NotVerticalBar", 0x2224),
    E("Nscr", 0x1d4a9), L("Ntilde", 0xd1), E("Nu", 0x39d), E("OElig", 0x152), L("Oacute", 0xd3),
    L("Ocirc", 0xd4), E("Ocy", 0x41e), E("Odblac", 0x150), E("Ofr", 0x1d512), L("Ograve", 0xd2),
    E("Omacr", 0x14c), E("Omega", 0x3a9), E("Omicron", 0x39f), E("Oopf", 0x1d546),
    E("OpenCurlyDoubleQuote", 0x201c), E("OpenCurlyQuote", 0x2018), E("Or", 0x2a54),
    E("Oscr", 0x1d4aa), L("Oslash", 0xd8), L("Otilde", 0xd5), E("Otimes", 0x2a37), L("Ouml", 0xd6),
    E("OverBar", 0x203e), E("OverBrace", 0x23de), E("OverBracket", 0x23b4),
    E("OverParenthesis", 0x23dc), E("PartialD", 0x2202), E("Pcy", 0x41f), E("Pfr", 0x1d513),
    E("Phi", 0x3a6), E("Pi", 0x3a0), E("PlusMinus", 0xb1), E("Poincareplane", 0x210c),
    E("Popf", 0x2119), E("Pr", 0x2abb), E("Precedes", 0x227a), E("PrecedesEqual", 0x2aaf),
    E("PrecedesSlantEqual", 0x227c), E("PrecedesTilde", 0x227e), E("Prime", 0x2033),
    E("Product", 0x220f), E("Proportion", 0x2237), E("Proportional", 0x221d), E("Pscr", 0x1d4ab),
    E("Psi", 0x3a8), L("QUOT", 0x22), E("Qfr", 0x1d514), E("Qopf", 0x211a), E("Qscr", 0x1d4ac),
    E("RBarr", 0x2910), L("REG", 0xae), E("Racute", 0x154), E("Rang", 0x27eb), E("Rarr", 0x21a0),
    E("Rarrtl", 0x2916), E("Rcaron", 0x158), E("Rcedil", 0x156), E("Rcy", 0x420), E("Re", 0x211c),
    E("ReverseElement", 0x220b), E("ReverseEquilibrium", 0x21cb),
    E("ReverseUpEquilibrium", 0x296f), E("Rfr", 0x211c), E("Rho", 0x3a1),
    E("RightAngleBracket", 0x27e9), E("RightArrow", 0x2192), E("RightArrowBar", 0x21e5),
    E("RightArrowLeftArrow", 0x21c4), E("RightCeiling", 0x2309), E("RightDoubleBracket", 0x27e7),
    E("RightDownTeeVector", 0x295d), E("RightDownVector", 0x21c2), E("RightDownVectorBar", 0x2955),
    E("RightFloor", 0x230b), E("RightTee", 0x22a2), E("RightTeeArrow", 0x21a6),
    E("RightTeeVector", 0x295b), E("RightTriangle", 0x22b3), E("RightTriangleBar", 0x29d0),
    E("RightTriangleEqual", 0x22b5), E("RightUpDownVector", 0x294f), E("RightUpTeeVector", 0x295c),
    E("RightUpVector", 0x21be), E("RightUpVectorBar", 0x2954), E("RightVector", 0x21c0),
    E("RightVectorBar", 0x2953), E("Rightarrow", 0x21d2), E("Ropf", 0x211d),
    E("RoundImplies", 0x2970), E("Rrightarrow", 0x21db), E("Rscr", 0x211b), E("Rsh", 0x21b1),
    E("RuleDelayed", 0x29f4), E("SHCHcy", 0x429), E("SHcy", 0x428), E("SOFTcy", 0x42c),
    E("Sacute", 0x15a), E("Sc", 0x2abc), E("Scaron", 0x160), E("Scedil", 0x15e), E("Scirc", 0x15c),
    E("Scy", 0x421), E("Sfr", 0x1d516), E("ShortDownArrow", 0x2193), E("ShortLeftArrow", 0x2190),
    E("ShortRightArrow", 0x2192), E("ShortUpArrow", 0x2191), E("Sigma", 0x3a3),
    E("SmallCircle", 0x2218), E("Sopf", 0x1d54a), E("Sqrt", 0x221a), E("Square", 0x25a1),
    E("SquareIntersection", 0x2293), E("SquareSubset", 0x228f), E("SquareSubsetEqual", 0x2291),
    E("SquareSuperset", 0x2290), E("SquareSupersetEqual", 0x2292), E("SquareUnion", 0x2294),
    E("Sscr", 0x1d4ae), E("Star", 0x22c6), E("Sub", 0x22d0), E("Subset", 0x22d0),
    E("SubsetEqual", 0x2286), E("Succeeds", 0x227b), E("SucceedsEqual", 0x2ab0),
    E("SucceedsSlantEqual", 0x227d), E("SucceedsTilde", 0x227f), E("SuchThat", 0x220b),
    E("Sum", 0x2211), E("Sup", 0x22d1), E("Superset", 0x2283), E("SupersetEqual", 0x2287),
    E("Supset", 0x22d1), L("THORN", 0xde), E("TRADE", 0x2122), E("TSHcy", 0x40b), E("TScy", 0x426),
    E("Tab", 0x9), E("Tau", 0x3a4), E("Tcaron", 0x164), E("Tcedil", 0x162), E("Tcy", 0x422),
    E("Tfr", 0x1d517), E("Therefore", 0x2234), E("Theta", 0x398), E2("ThickSpace", 0x205f, 0x200a),
    E("ThinSpace", 0x2009), E("Tilde", 0x223c), E("TildeEqual", 0x2243),
    E("TildeFullEqual", 0x2245), E("TildeTilde", 0x2248), E("Topf", 0x1d54b),
    E("TripleDot", 0x20db), E("Tscr", 0x1d4af), E("Tstrok", 0x166), L("Uacute", 0xda),
    E("Uarr", 0x219f), E("Uarrocir", 0x2949), E("Ubrcy", 0x40e), E("Ubreve", 0x16c),
    L("Ucirc", 0xdb), E("Ucy", 0x423), E("Udblac", 0x170), E("Ufr", 0x1d518), L("Ugrave", 0xd9),
    E("Umacr", 0x16a), E("UnderBar", 0x5f), E("UnderBrace", 0x23df), E("UnderBracket", 0x23b5),
    E("UnderParenthesis", 0x23dd), E("Union", 0x22c3), E("UnionPlus", 0x228e), E("Uogon", 0x172),
    E("Uopf", 0x1d54c), E("UpArrow", 0x2191), E("UpArrowBar", 0x2912),
    E("UpArrowDownArrow", 0x21c5), E("UpDownArrow", 0x2195), E("UpEquilibrium", 0x296e),
    E("UpTee", 0x22a5), E("UpTeeArrow", 0x21a5), E("Uparrow", 0x21d1), E("Updownarrow", 0x21d5),
    E("UpperLeftArrow", 0x2196), E("UpperRightArrow", 0x2197), E("Upsi", 0x3d2),
    E("Upsilon", 0x3a5), E("Uring", 0x16e), E("Uscr", 0x1d4b0), E("Utilde", 0x168),
    L("Uuml", 0xdc), E("VDash", 0x22ab), E("Vbar", 0x2aeb), E("Vcy", 0x412), E("Vdash", 0x22a9),
    E("Vdashl", 0x2ae6), E("Vee", 0x22c1), E("Verbar", 0x2016), E("Vert", 0x2016),
    E("VerticalBar", 0x2223), E("VerticalLine", 0x7c), E("VerticalSeparator", 0x2758),
    E("VerticalTilde", 0x2240), E("VeryThinSpace", 0x200a), E("Vfr", 0x1d519), E("Vopf", 0x1d54d),
    E("Vscr", 0x1d4b1), E("Vvdash", 0x22aa), E("Wcirc", 0x174), E("Wedge", 0x22c0),
    E("Wfr", 0x1d51a), E("Wopf", 0x1d54e), E("Wscr", 0x1d4b2), E("Xfr", 0x1d51b), E("Xi", 0x39e),
    E("Xopf", 0x1d54f), E("Xscr", 0x1d4b3), E("YAcy", 0x42f), E("YIcy", 0x407), E("YUcy", 0x42e),
    L("Yacute", 0xdd), E("Ycirc", 0x176), E("Ycy", 0x42b), E("Yfr", 0x1d51c), E("Yopf", 0x1d550),
    E("Yscr", 0x1d4b4), E("Yuml", 0x178), E("ZHcy", 0x416), E("Zacute", 0x179), E("Zcaron", 0x17d),
    E("Zcy", 0x417), E("Zdot", 0x17b), E("ZeroWidthSpace", 0x200b), E("Zeta", 0x396),
    E("Zfr", 0x2128), E("Zopf", 0x2124), E("Zscr", 0x1d4b5), L("aacute", 0xe1), E("abreve", 0x103),
    E("ac", 0x223e), E2("acE", 0x223e, 0x333), E("acd", 0x223f), L("acirc", 0xe2),
    L("acute", 0xb4), E("acy", 0x430), L("aelig", 0xe6), E("af", 0x2061), E("afr", 0x1d51e),
    L("agrave", 0xe0), E("alefsym", 0x2135), E("aleph", 0x2135), E("alpha", 0x3b1),
    E("amacr", 0x101), E("amalg", 0x2a3f), L("amp", 0x26), E("and", 0x2227), E("andand", 0x2a55),
    E("andd", 0x2a5c), E("andslope", 0x2a58), E("andv", 0x2a5a), E("ang", 0x2220),
    E("ange", 0x29a4), E("angle", 0x2220), E("angmsd", 0x2221), E("angmsdaa", 0x29a8),
    E("angmsdab", 0x29a9), E("angmsdac", 0x29aa), E("angmsdad", 0x29ab), E("angmsdae", 0x29ac),
    E("angmsdaf", 0x29ad), E("angmsdag", 0x29ae), E("angmsdah", 0x29af), E("angrt", 0x221f),
    E("angrtvb", 0x22be), E("angrtvbd", 0x299d), E("angsph", 0x2222), E("angst", 0xc5),
    E("angzarr", 0x237c), E("aogon", 0x105), E("aopf", 0x1d552), E("ap", 0x2248), E("apE", 0x2a70),
    E("apacir", 0x2a6f), E("ape", 0x224a), E("apid", 0x224b), E("apos", 0x27), E("approx", 0x2248),
    E("approxeq", 0x224a), L("aring", 0xe5), E("ascr", 0x1d4b6), E("ast", 0x2a),
    E("asymp", 0x2248), E("asympeq", 0x224d), L("atilde", 0xe3), L("auml", 0xe4),
    E("awconint", 0x2233), E("awint", 0x2a11), E("bNot", 0x2aed), E("backcong", 0x224c),
    E("backepsilon", 0x3f6), E("backprime", 0x2035), E("backsim", 0x223d), E("backsimeq", 0x22cd),
    E("barvee", 0x22bd), E("barwed", 0x2305), E("barwedge", 0x2305), E("bbrk", 0x23b5),
    E("bbrktbrk", 0x23b6), E("bcong", 0x224c), E("bcy", 0x431), E("bdquo", 0x201e),
    E("becaus", 0x2235), E("because", 0x2235), E("bemptyv", 0x29b0), E("bepsi", 0x3f6),
    E("bernou", 0x212c), E("beta", 0x3b2), E("beth", 0x2136), E("between", 0x226c),
    E("bfr", 0x1d51f), E("bigcap", 0x22c2), E("bigcirc", 0x25ef), E("bigcup", 0x22c3),
    E("bigodot", 0x2a00), E("bigoplus", 0x2a01), E("bigotimes", 0x2a02), E("bigsqcup", 0x2a06),
    E("bigstar", 0x2605), E("bigtriangledown", 0x25bd), E("bigtriangleup", 0x25b3),
    E("biguplus", 0x2a04), E("bigvee", 0x22c1), E("bigwedge", 0x22c0), E("bkarow", 0x290d),
    E("blacklozenge", 0x29eb), E("blacksquare", 0x25aa), E("blacktriangle", 0x25b4),
    E("blacktriangledown", 0x25be), E("blacktriangleleft", 0x25c2),
    E("blacktriangleright", 0x25b8), E("blank", 0x2423), E("blk12", 0x2592), E("blk14", 0x2591),
    E("blk34", 0x2593), E("block", 0x2588), E2("bne", 0x3d, 0x20e5), E2("bnequiv", 0x2261, 0x20e5),
    E("bnot", 0x2310), E("bopf", 0x1d553), E("bot", 0x22a5), E("bottom", 0x22a5),
    E("bowtie", 0x22c8), E("boxDL", 0x2557), E("boxDR", 0x2554), E("boxDl", 0x2556),
    E("boxDr", 0x2553), E("boxH", 0x2550), E("boxHD", 0x2566), E("boxHU", 0x2569),
    E("boxHd", 0x2564), E("boxHu", 0x2567), E("boxUL", 0x255d), E("boxUR", 0x255a),
    E("boxUl", 0x255c), E("boxUr", 0x2559), E("boxV", 0x2551), E("boxVH", 0x256c),
    E("boxVL", 0x2563), E("boxVR", 0x2560), E("boxVh", 0x256b), E("boxVl", 0x2562),
    E("boxVr", 0x255f), E("boxbox", 0x29c9), E("boxdL", 0x2555), E("boxdR", 0x2552),
    E("boxdl", 0x2510), E("boxdr", 0x250c), E("boxh", 0x2500), E("boxhD", 0x2565),
    E("boxhU", 0x2568), E("boxhd", 0x252c), E("boxhu", 0x2534), E("boxminus", 0x229f),
    E("boxplus", 0x229e), E("boxtimes", 0x22a0), E("boxuL", 0x255b), E("boxuR", 0x2558),
    E("boxul", 0x2518), E("boxur", 0x2514), E("boxv", 0x2502), E("boxvH", 0x256a),
    E("boxvL", 0x2561), E("boxvR", 0x255e), E("boxvh", 0x253c), E("boxvl", 0x2524),
    E("boxvr", 0x251c), E("bprime", 0x2035), E("breve", 0x2d8), L("brvbar", 0xa6),
    E("bscr", 0x1d4b7), E("bsemi", 0x204f), E("bsim", 0x223d), E("bsime", 0x22cd), E("bsol", 0x5c),
    E("bsolb", 0x29c5), E("bsolhsub", 0x27c8), E("bull", 0x2022), E("bullet", 0x2022),
    E("bump", 0x224e), E("bumpE", 0x2aae), E("bumpe", 0x224f), E("bumpeq", 0x224f),
    E("cacute", 0x107), E("cap", 0x2229), E("capand", 0x2a44), E("capbrcup", 0x2a49),
    E("capcap", 0x2a4b), E("capcup", 0x2a47), E("capdot", 0x2a40), E2("caps", 0x2229, 0xfe00),
    E("caret", 0x2041), E("caron", 0x2c7), E("ccaps", 0x2a4d), E("ccaron", 0x10d),
    L("ccedil", 0xe7), E("ccirc", 0x109), E("ccups", 0x2a4c), E("ccupssm", 0x2a50),
    E("cdot", 0x10b), L("cedil", 0xb8), E("cemptyv", 0x29b2), L("cent", 0xa2),
    E("centerdot", 0xb7), E("cfr", 0x1d520), E("chcy", 0x447), E("check", 0x2713),
    E("checkmark", 0x2713), E("chi", 0x3c7), E("cir", 0x25cb), E("cirE", 0x29c3), E("circ", 0x2c6),
    E("circeq", 0x2257), E("circlearrowleft", 0x21ba), E("circlearrowright", 0x21bb),
    E("circledR", 0xae), E("circledS", 0x24c8), E("circledast", 0x229b), E("circledcirc", 0x229a),
    E("circleddash", 0x229d), E("cire", 0x2257), E("cirfnint", 0x2a10), E("cirmid", 0x2aef),
    E("cirscir", 0x29c2), E("clubs", 0x2663), E("clubsuit", 0x2663), E("colon", 0x3a),
    E("colone", 0x2254), E("coloneq", 0x2254), E("comma", 0x2c), E("commat", 0x40),
    E("comp", 0x2201), E("compfn", 0x2218), E("complement", 0x2201), E("complexes", 0x2102),
    E("cong", 0x2245), E("congdot", 0x2a6d), E("conint", 0x222e), E("copf", 0x1d554),
    E("coprod", 0x2210), L("copy", 0xa9), E("copysr", 0x2117), E("crarr", 0x21b5),
    E("cross", 0x2717), E("cscr", 0x1d4b8), E("csub", 0x2acf), E("csube", 0x2ad1),
    E("csup", 0x2ad0), E("csupe", 0x2ad2), E("ctdot", 0x22ef), E("cudarrl", 0x2938),
    E("cudarrr", 0x2935), E("cuepr", 0x22de), E("cuesc", 0x22df), E("cularr", 0x21b6),
    E("cularrp", 0x293d), E("cup", 0x222a), E("cupbrcap", 0x2a48), E("cupcap", 0x2a46),
    E("cupcup", 0x2a4a), E("cupdot", 0x228d), E("cupor", 0x2a45), E2("cups", 0x222a, 0xfe00),
    E("curarr", 0x21b7), E("curarrm", 0x293c), E("curlyeqprec", 0x22de), E("curlyeqsucc", 0x22df),
    E("curlyvee", 0x22ce), E("curlywedge", 0x22cf), L("curren", 0xa4), E("curvearrowleft", 0x21b6),
    E("curvearrowright", 0x21b7), E("cuvee", 0x22ce), E("cuwed", 0x22cf), E("cwconint", 0x2232),
    E("cwint", 0x2231), E("cylcty", 0x232d), E("dArr", 0x21d3), E("dHar", 0x2965),
    E("dagger", 0x2020), E("daleth", 0x2138), E("darr", 0x2193), E("dash", 0x2010),
    E("dashv", 0x22a3), E("dbkarow", 0x290f), E("dblac", 0x2dd), E("dcaron", 0x10f),
    E("dcy", 0x434), E("dd", 0x2146), E("ddagger", 0x2021), E("ddarr", 0x21ca),
    E("ddotseq", 0x2a77), L("deg", 0xb0), E("delta", 0x3b4), E("demptyv", 0x29b1),
    E("dfisht", 0x297f), E("dfr", 0x1d521), E("dharl", 0x21c3), E("dharr", 0x21c2),
    E("diam", 0x22c4), E("diamond", 0x22c4), E("diamondsuit", 0x2666), E("diams", 0x2666),
    E("die", 0xa8), E("digamma", 0x3dd), E("disin", 0x22f2), E("div", 0xf7), L("divide", 0xf7),
    E("divideontimes", 0x22c7), E("divonx", 0x22c7), E("djcy", 0x452), E("dlcorn", 0x231e),
    E("dlcrop", 0x230d), E("dollar", 0x24), E("dopf", 0x1d555), E("dot", 0x2d9),
    E("doteq", 0x2250), E("doteqdot", 0x2251), E("dotminus", 0x2238), E("dotplus", 0x2214),
    E("dotsquare", 0x22a1), E("doublebarwedge", 0x2306), E("downarrow", 0x2193),
    E("downdownarrows", 0x21ca), E("downharpoonleft", 0x21c3), E("downharpoonright", 0x21c2),
    E("drbkarow", 0x2910), E("drcorn", 0x231f), E("drcrop", 0x230c), E("dscr", 0x1d4b9),
    E("dscy", 0x455), E("dsol", 0x29f6), E("dstrok", 0x111), E("dtdot", 0x22f1), E("dtri", 0x25bf),
    E("dtrif", 0x25be), E("duarr", 0x21f5), E("duhar", 0x296f), E("dwangle", 0x29a6),
    E("dzcy", 0x45f), E("dzigrarr", 0x27ff), E("eDDot", 0x2a77), E("eDot", 0x2251),
    L("eacute", 0xe9), E("easter", 0x2a6e), E("ecaron", 0x11b), E("ecir", 0x2256),
    L("ecirc", 0xea), E("ecolon", 0x2255), E("ecy", 0x44d), E("edot", 0x117), E("ee", 0x2147),
    E("efDot", 0x2252), E("efr", 0x1d522), E("eg", 0x2a9a), L("egrave", 0xe8), E("egs", 0x2a96),
    E("egsdot", 0x2a98), E("el", 0x2a99), E("elinters", 0x23e7), E("ell", 0x2113),
    E("els", 0x2a95), E("elsdot", 0x2a97), E("emacr", 0x113), E("empty", 0x2205),
    E("emptyset", 0x2205), E("emptyv", 0x2205), E("emsp", 0x2003), E("emsp13", 0x2004),
    E("emsp14", 0x2005), E("eng", 0x14b), E("ensp", 0x2002), E("eogon", 0x119), E("eopf", 0x1d556),
    E("epar", 0x22d5), E("eparsl", 0x29e3), E("eplus", 0x2a71), E("epsi", 0x3b5),
    E("epsilon", 0x3b5), E("epsiv", 0x3f5), E("eqcirc", 0x2256), E("eqcolon", 0x2255),
    E("eqsim", 0x2242), E("eqslantgtr", 0x2a96), E("eqslantless", 0x2a95), E("equals", 0x3d),
    E("equest", 0x225f), E("equiv", 0x2261), E("equivDD", 0x2a78), E("eqvparsl", 0x29e5),
    E("erDot", 0x2253), E("erarr", 0x2971), E("escr", 0x212f), E("esdot", 0x2250),
    E("esim", 0x2242), E("eta", 0x3b7), L("eth", 0xf0), L("euml", 0xeb), E("euro", 0x20ac),
    E("excl", 0x21), E("exist", 0x2203), E("expectation", 0x2130), E("exponentiale", 0x2147),
    E("fallingdotseq", 0x2252), E("fcy", 0x444), E("female", 0x2640), E("ffilig", 0xfb03),
    E("fflig", 0xfb00), E("ffllig", 0xfb04), E("ffr", 0x1d523), E("filig", 0xfb01),
    E2("fjlig", 0x66, 0x6a), E("flat", 0x266d), E("fllig", 0xfb02), E("fltns", 0x25b1),
    E("fnof", 0x192), E("fopf", 0x1d557), E("forall", 0x2200), E("fork", 0x22d4),
    E("forkv", 0x2ad9), E("fpartint", 0x2a0d), L("frac12", 0xbd), E("frac13", 0x2153),
    L("frac14", 0xbc), E("frac15", 0x2155), E("frac16", 0x2159), E("frac18", 0x215b),
    E("frac23", 0x2154), E("frac25", 0x2156), L("frac34", 0xbe), E("frac35", 0x2157),
    E("frac38", 0x215c), E("frac45", 0x2158), E("frac56", 0x215a), E("frac58", 0x215d),
    E("frac78", 0x215e), E("frasl", 0x2044), E("frown", 0x2322), E("fscr", 0x1d4bb),
    E("gE", 0x2267), E("gEl", 0x2a8c), E("gacute", 0x1f5), E("gamma", 0x3b3), E("gammad", 0x3dd),
    E("gap", 0x2a86), E("gbreve", 0x11f), E("gcirc", 0x11d), E("gcy", 0x433), E("gdot", 0x121),
    E("ge", 0x2265), E("gel", 0x22db), E("geq", 0x2265), E("geqq", 0x2267), E("geqslant", 0x2a7e),
    E("ges", 0x2a7e), E("gescc", 0x2aa9), E("gesdot", 0x2a80), E("gesdoto", 0x2a82),
    E("gesdotol", 0x2a84), E2("gesl", 0x22db, 0xfe00), E("gesles", 0x2a94), E("gfr", 0x1d524),
    E("gg", 0x226b), E("ggg", 0x22d9), E("gimel", 0x2137), E("gjcy", 0x453), E("gl", 0x2277),
    E("glE", 0x2a92), E("gla", 0x2aa5), E("glj", 0x2aa4), E("gnE", 0x2269), E("gnap", 0x2a8a),
    E("gnapprox", 0x2a8a), E("gne", 0x2a88), E("gneq", 0x2a88), E("gneqq", 0x2269),
    E("gnsim", 0x22e7), E("gopf", 0x1d558), E("grave", 0x60), E("gscr", 0x210a), E("gsim", 0x2273),
    E("gsime", 0x2a8e), E("gsiml", 0x2a90), L("gt", 0x3e), E("gtcc", 0x2aa7), E("gtcir", 0x2a7a),
    E("gtdot", 0x22d7), E("gtlPar", 0x2995), E("gtquest", 0x2a7c), E("gtrapprox", 0x2a86),
    E("gtrarr", 0x2978), E("gtrdot", 0x22d7), E("gtreqless", 0x22db), E("gtreqqless", 0x2a8c),
    E("gtrless", 0x2277), E("gtrsim", 0x2273), E2("gvertneqq", 0x2269, 0xfe00),
    E2("gvnE", 0x2269, 0xfe00), E("hArr", 0x21d4), E("hairsp", 0x200a), E("half", 0xbd),
    E("hamilt", 0x210b), E("hardcy", 0x44a), E("harr", 0x2194), E("harrcir", 0x2948),
    E("harrw", 0x21ad), E("hbar", 0x210f), E("hcirc", 0x125), E("hearts", 0x2665),
    E("heartsuit", 0x2665), E("hellip", 0x2026), E("hercon", 0x22b9), E("hfr", 0x1d525),
    E("hksearow", 0x2925), E("hkswarow", 0x2926), E("hoarr", 0x21ff), E("homtht", 0x223b),
    E("hookleftarrow", 0x21a9), E("hookrightarrow", 0x21aa), E("hopf", 0x1d559),
    E("horbar", 0x2015), E("hscr", 0x1d4bd), E("hslash", 0x210f), E("hstrok", 0x127),
    E("hybull", 0x2043), E("hyphen", 0x2010), L("iacute", 0xed), E("ic", 0x2063), L("icirc", 0xee),
    E("icy", 0x438), E("iecy", 0x435), L("iexcl", 0xa1), E("iff", 0x21d4), E("ifr", 0x1d526),
    L("igrave", 0xec), E("ii", 0x2148), E("iiiint", 0x2a0c), E("iiint", 0x222d),
    E("iinfin", 0x29dc), E("iiota", 0x2129), E("ijlig", 0x133), E("imacr", 0x12b),
    E("image", 0x2111), E("imagline", 0x2110), E("imagpart", 0x2111), E("imath", 0x131),
    E("imof", 0x22b7), E("imped", 0x1b5), E("in", 0x2208), E("incare", 0x2105), E("infin", 0x221e),
    E("infintie", 0x29dd), E("inodot", 0x131), E("int", 0x222b), E("intcal", 0x22ba),
    E("integers", 0x2124), E("intercal", 0x22ba), E("intlarhk", 0x2a17), E("intprod", 0x2a3c),
    E("iocy", 0x451), E("iogon", 0x12f), E("iopf", 0x1d55a), E("iota", 0x3b9), E("iprod", 0x2a3c),
    L("iquest", 0xbf), E("iscr", 0x1d4be), E("isin", 0x2208), E("isinE", 0x22f9),
    E("isindot", 0x22f5), E("isins", 0x22f4), E("isinsv", 0x22f3), E("isinv", 0x2208),
    E("it", 0x2062), E("itilde", 0x129), E("iukcy", 0x456), L("iuml", 0xef), E("jcirc", 0x135),
    E("jcy", 0x439), E("jfr", 0x1d527), E("jmath", 0x237), E("jopf", 0x1d55b), E("jscr", 0x1d4bf),
    E("jsercy", 0x458), E("jukcy", 0x454), E("kappa", 0x3ba), E("kappav", 0x3f0),
    E("kcedil", 0x137), E("kcy", 0x43a), E("kfr", 0x1d528), E("kgreen", 0x138), E("khcy", 0x445),
    E("kjcy", 0x45c), E("kopf", 0x1d55c), E("kscr", 0x1d4c0), E("lAarr", 0x21da),
    E("lArr", 0x21d0), E("lAtail", 0x291b), E("lBarr", 0x290e), E("lE", 0x2266), E("lEg", 0x2a8b),
    E("lHar", 0x2962), E("lacute", 0x13a), E("laemptyv", 0x29b4), E("lagran", 0x2112),
    E("lambda", 0x3bb), E("lang", 0x27e8), E("langd", 0x2991), E("langle", 0x27e8),
    E("lap", 0x2a85), L("laquo", 0xab), E("larr", 0x2190), E("larrb", 0x21e4),
    E("larrbfs", 0x291f), E("larrfs", 0x291d), E("larrhk", 0x21a9), E("larrlp", 0x21ab),
    E("larrpl", 0x2939), E("larrsim", 0x2973), E("larrtl", 0x21a2), E("lat", 0x2aab),
    E("latail", 0x2919), E("late", 0x2aad), E2("lates", 0x2aad, 0xfe00), E("lbarr", 0x290c),
    E("lbbrk", 0x2772), E("lbrace", 0x7b), E("lbrack", 0x5b), E("lbrke", 0x298b),
    E("lbrksld", 0x298f), E("lbrkslu", 0x298d), E("lcaron", 0x13e), E("lcedil", 0x13c),
    E("lceil", 0x2308), E("lcub", 0x7b), E("lcy", 0x43b), E("ldca", 0x2936), E("ldquo", 0x201c),
    E("ldquor", 0x201e), E("ldrdhar", 0x2967), E("ldrushar", 0x294b), E("ldsh", 0x21b2),
    E("le", 0x2264), E("leftarrow", 0x2190), E("leftarrowtail", 0x21a2),
    E("leftharpoondown", 0x21bd), E("leftharpoonup", 0x21bc), E("leftleftarrows", 0x21c7),
    E("leftrightarrow", 0x2194), E("leftrightarrows", 0x21c6), E("leftrightharpoons", 0x21cb),
    E("leftrightsquigarrow", 0x21ad), E("leftthreetimes", 0x22cb), E("leg", 0x22da),
    E("leq", 0x2264), E("leqq", 0x2266), E("leqslant", 0x2a7d), E("les", 0x2a7d),
    E("lescc", 0x2aa8), E("lesdot", 0x2a7f), E("lesdoto", 0x2a81), E("lesdotor", 0x2a83),
    E2("lesg", 0x22da, 0xfe00), E("lesges", 0x2a93), E("lessapprox", 0x2a85), E("lessdot", 0x22d6),
    E("lesseqgtr", 0x22da), E("lesseqqgtr", 0x2a8b), E("lessgtr", 0x2276), E("lesssim", 0x2272),
    E("lfisht", 0x297c), E("lfloor", 0x230a), E("lfr", 0x1d529), E("lg", 0x2276), E("lgE", 0x2a91),
    E("lhard", 0x21bd), E("lharu", 0x21bc), E("lharul", 0x296a), E("lhblk", 0x2584),
    E("ljcy", 0x459), E("ll", 0x226a), E("llarr", 0x21c7), E("llcorner", 0x231e),
    E("llhard", 0x296b), E("lltri", 0x25fa), E("lmidot", 0x140), E("lmoust", 0x23b0),
    E("lmoustache", 0x23b0), E("lnE", 0x2268), E("lnap", 0x2a89), E("lnapprox", 0x2a89),
    E("lne", 0x2a87), E("lneq", 0x2a87), E("lneqq", 0x2268), E("lnsim", 0x22e6),
    E("loang", 0x27ec), E("loarr", 0x21fd), E("lobrk", 0x27e6), E("longleftarrow", 0x27f5),
    E("longleftrightarrow", 0x27f7), E("longmapsto", 0x27fc), E("longrightarrow", 0x27f6),
    E("looparrowleft", 0x21ab), E("looparrowright", 0x21ac), E("lopar", 0x2985),
    E("lopf", 0x1d55d), E("loplus", 0x2a2d), E("lotimes", 0x2a34), E("lowast", 0x2217),
    E("lowbar", 0x5f), E("loz", 0x25ca), E("lozenge", 0x25ca), E("lozf", 0x29eb), E("lpar", 0x28),
    E("lparlt", 0x2993), E("lrarr", 0x21c6), E("lrcorner", 0x231f), E("lrhar", 0x21cb),
    E("lrhard", 0x296d), E("lrm", 0x200e), E("lrtri", 0x22bf), E("lsaquo", 0x2039),
    E("lscr", 0x1d4c1), E("lsh", 0x21b0), E("lsim", 0x2272), E("lsime", 0x2a8d),
    E("lsimg", 0x2a8f), E("lsqb", 0x5b), E("lsquo", 0x2018), E("lsquor", 0x201a),
    E("lstrok", 0x142), L("lt", 0x3c), E("ltcc", 0x2aa6), E("ltcir", 0x2a79), E("ltdot", 0x22d6),
    E("lthree", 0x22cb), E("ltimes", 0x22c9), E("ltlarr", 0x2976), E("ltquest", 0x2a7b),
    E("ltrPar", 0x2996), E("ltri", 0x25c3), E("ltrie", 0x22b4), E("ltrif", 0x25c2),
    E("lurdshar", 0x294a), E("luruhar", 0x2966), E2("lvertneqq", 0x2268, 0xfe00),
    E2("lvnE", 0x2268, 0xfe00), E("mDDot", 0x223a), L("macr", 0xaf), E("male", 0x2642),
    E("malt", 0x2720), E("maltese", 0x2720), E("map", 0x21a6), E("mapsto", 0x21a6),
    E("mapstodown", 0x21a7), E("mapstoleft", 0x21a4), E("mapstoup", 0x21a5), E("marker", 0x25ae),
    E("mcomma", 0x2a29), E("mcy", 0x43c), E("mdash", 0x2014), E("measuredangle", 0x2221),
    E("mfr", 0x1d52a), E("mho", 0x2127), L("micro", 0xb5), E("mid", 0x2223), E("midast", 0x2a),
    E("midcir", 0x2af0), L("middot", 0xb7), E("minus", 0x2212), E("minusb", 0x229f),
    E("minusd", 0x2238), E("minusdu", 0x2a2a), E("mlcp", 0x2adb), E("mldr", 0x2026),
    E("mnplus", 0x2213), E("models", 0x22a7), E("mopf", 0x1d55e), E("mp", 0x2213),
    E("mscr", 0x1d4c2), E("mstpos", 0x223e), E("mu", 0x3bc), E("multimap", 0x22b8),
    E("mumap", 0x22b8), E2("nGg", 0x22d9, 0x338), E2("nGt", 0x226b, 0x20d2),
    E2("nGtv", 0x226b, 0x338), E("nLeftarrow", 0x21cd), E("nLeftrightarrow", 0x21ce),
    E2("nLl", 0x22d8, 0x338), E2("nLt", 0x226a, 0x20d2), E2("nLtv", 0x226a, 0x338),
    E("nRightarrow", 0x21cf), E("nVDash", 0x22af), E("nVdash", 0x22ae), E("nabla", 0x2207),
    E("nacute", 0x144), E2("nang", 0x2220, 0x20d2), E("nap", 0x2249), E2("napE", 0x2a70, 0x338),
    E2("napid", 0x224b, 0x338), E("napos", 0x149), E("napprox", 0x2249), E("natur", 0x266e),
    E("natural", 0x266e), E("naturals", 0x2115), L("nbsp", 0xa0), E2("nbump", 0x224e, 0x338),
    E2("nbumpe", 0x224f, 0x338), E("ncap", 0x2a43), E("ncaron", 0x148), E("ncedil", 0x146),
    E("ncong", 0x2247), E2("ncongdot", 0x2a6d, 0x338), E("ncup", 0x2a42), E("ncy", 0x43d),
    E("ndash", 0x2013), E("ne", 0x2260), E("neArr", 0x21d7), E("nearhk", 0x2924),
    E("nearr", 0x2197), E("nearrow", 0x2197), E2("nedot", 0x2250, 0x338), E("nequiv", 0x2262),
    E("nesear", 0x2928), E2("nesim", 0x2242, 0x338), E("nexist", 0x2204), E("nexists", 0x2204),
    E("nfr", 0x1d52b), E2("ngE", 0x2267, 0x338), E("nge", 0x2271), E("ngeq", 0x2271),
    E2("ngeqq", 0x2267, 0x338), E2("ngeqslant", 0x2a7e, 0x338), E2("nges", 0x2a7e, 0x338),
    E("ngsim", 0x2275), E("ngt", 0x226f), E("ngtr", 0x226f), E("nhArr", 0x21ce),
    E("nharr", 0x21ae), E("nhpar", 0x2af2), E("ni", 0x220b), E("nis", 0x22fc), E("nisd", 0x22fa),
    E("niv", 0x220b), E("njcy", 0x45a), E("nlArr", 0x21cd), E2("nlE", 0x2266, 0x338),
    E("nlarr", 0x219a), E("nldr", 0x2025), E("nle", 0x2270), E("nleftarrow", 0x219a),
    E("nleftrightarrow", 0x21ae), E("nleq", 0x2270), E2("nleqq", 0x2266, 0x338),
    E2("nleqslant", 0x2a7d, 0x338), E2("nles", 0x2a7d, 0x338), E("nless", 0x226e),
    E("nlsim", 0x2274), E("nlt", 0x226e), E("nltri", 0x22ea), E("nltrie", 0x22ec),
    E("nmid", 0x2224), E("nopf", 0x1d55f), L("not", 0xac), E("notin", 0x2209),
    E2("notinE", 0x22f9, 0x338), E2("notindot", 0x22f5, 0x338), E("notinva", 0x2209),
    E("notinvb", 0x22f7), E("notinvc", 0x22f6), E("notni", 0x220c), E("notniva", 0x220c),
    E("notnivb", 0x22fe), E("notnivc", 0x22fd), E("npar", 0x2226), E("nparallel", 0x2226),
    E2("nparsl", 0x2afd, 0x20e5), E2("npart", 0x2202, 0x338), E("npolint", 0x2a14),
    E("npr", 0x2280), E("nprcue", 0x22e0), E2("npre", 0x2aaf, 0x338), E("nprec", 0x2280),
    E2("npreceq", 0x2aaf, 0x338), E("nrArr", 0x21cf), E("nrarr", 0x219b),
    E2("nrarrc", 0x2933, 0x338), E2("nrarrw", 0x219d, 0x338), E("nrightarrow", 0x219b),
    E("nrtri", 0x22eb), E("nrtrie", 0x22ed), E("nsc", 0x2281), E("nsccue", 0x22e1),
    E2("nsce", 0x2ab0, 0x338), E("nscr", 0x1d4c3), E("nshortmid", 0x2224),
    E("nshortparallel", 0x2226), E("nsim", 0x2241), E("nsime", 0x2244), E("nsimeq", 0x2244),
    E("nsmid", 0x2224), E("nspar", 0x2226), E("nsqsube", 0x22e2), E("nsqsupe", 0x22e3),
    E("nsub", 0x2284), E2("nsubE", 0x2ac5, 0x338), E("nsube", 0x2288),
    E2("nsubset", 0x2282, 0x20d2), E("nsubseteq", 0x2288), E2("nsubseteqq", 0x2ac5, 0x338),
    E("nsucc", 0x2281), E2("nsucceq", 0x2ab0, 0x338), E("nsup", 0x2285),
    E2("nsupE", 0x2ac6, 0x338), E("nsupe", 0x2289), E2("nsupset", 0x2283, 0x20d2),
    E("nsupseteq", 0x2289), E2("nsupseteqq", 0x2ac6, 0x338), E("ntgl", 0x2279), L("ntilde", 0xf1),
    E("ntlg", 0x2278), E("ntriangleleft", 0x22ea), E("ntrianglelefteq", 0x22ec),
    E("ntriangleright", 0x22eb), E("ntrianglerighteq", 0x22ed), E("nu", 0x3bd), E("num", 0x23),
    E("numero", 0x2116), E("numsp", 0x2007), E("nvDash", 0x22ad), E("nvHarr", 0x2904),
    E2("nvap", 0x224d, 0x20d2), E("nvdash", 0x22ac), E2("nvge", 0x2265, 0x20d2),
    E2("nvgt", 0x3e, 0x20d2), E("nvinfin", 0x29de), E("nvlArr", 0x2902),
    E2("nvle", 0x2264, 0x20d2), E2("nvlt", 0x3c, 0x20d2), E2("nvltrie", 0x22b4, 0x20d2),
    E("nvrArr", 0x2903), E2("nvrtrie", 0x22b5, 0x20d2), E2("nvsim", 0x223c, 0x20d2),
    E("nwArr", 0x21d6), E("nwarhk", 0x2923), E("nwarr", 0x2196), E("nwarrow", 0x2196),
    E("nwnear", 0x2927), E("oS", 0x24c8), L("oacute", 0xf3), E("oast", 0x229b), E("ocir", 0x229a),
    L("ocirc", 0xf4), E("ocy", 0x43e), E("odash", 0x229d), E("odblac", 0x151), E("odiv", 0x2a38),
    E("odot", 0x2299), E("odsold", 0x29bc), E("oelig", 0x153), E("ofcir", 0x29bf),
    E("ofr", 0x1d52c), E("ogon", 0x2db), L("ograve", 0xf2), E("ogt", 0x29c1), E("ohbar", 0x29b5),
    E("ohm", 0x3a9), E("oint", 0x222e), E("olarr", 0x21ba), E("olcir", 0x29be),
    E("olcross", 0x29bb), E("oline", 0x203e), E("olt", 0x29c0), E("omacr", 0x14d),
    E("omega", 0x3c9), E("omicron", 0x3bf), E("omid", 0x29b6), E("ominus", 0x2296),
    E("oopf", 0x1d560), E("opar", 0x29b7), E("operp", 0x29b9), E("oplus", 0x2295), E("or", 0x2228),
    E("orarr", 0x21bb), E("ord", 0x2a5d), E("order", 0x2134), E("orderof", 0x2134),
    L("ordf", 0xaa), L("ordm", 0xba), E("origof", 0x22b6), E("oror", 0x2a56), E("orslope", 0x2a57),
    E("orv", 0x2a5b), E("oscr", 0x2134), L("oslash", 0xf8), E("osol", 0x2298), L("otilde", 0xf5),
    E("otimes", 0x2297), E("otimesas", 0x2a36), L("ouml", 0xf6), E("ovbar", 0x233d),
    E("par", 0x2225), L("para", 0xb6), E("parallel", 0x2225), E("parsim", 0x2af3),
    E("parsl", 0x2afd), E("part", 0x2202), E("pcy", 0x43f), E("percnt", 0x25), E("period", 0x2e),
    E("permil", 0x2030), E("perp", 0x22a5), E("pertenk", 0x2031), E("pfr", 0x1d52d),
    E("phi", 0x3c6), E("phiv", 0x3d5), E("phmmat", 0x2133), E("phone", 0x260e), E("pi", 0x3c0),
    E("pitchfork", 0x22d4), E("piv", 0x3d6), E("planck", 0x210f), E("planckh", 0x210e),
    E("plankv", 0x210f), E("plus", 0x2b), E("plusacir", 0x2a23), E("plusb", 0x229e),
    E("pluscir", 0x2a22), E("plusdo", 0x2214), E("plusdu", 0x2a25), E("pluse", 0x2a72),
    L("plusmn", 0xb1), E("plussim", 0x2a26), E("plustwo", 0x2a27), E("pm", 0xb1),
    E("pointint", 0x2a15), E("popf", 0x1d561), L("pound", 0xa3), E("pr", 0x227a), E("prE", 0x2ab3),
    E("prap", 0x2ab7), E("prcue", 0x227c), E("pre", 0x2aaf), E("prec", 0x227a),
    E("precapprox", 0x2ab7), E("preccurlyeq", 0x227c), E("preceq", 0x2aaf),
    E("precnapprox", 0x2ab9), E("precneqq", 0x2ab5), E("precnsim", 0x22e8), E("precsim", 0x227e),
    E("prime", 0x2032), E("primes", 0x2119), E("prnE", 0x2ab5), E("prnap", 0x2ab9),
    E("prnsim", 0x22e8), E("prod", 0x220f), E("profalar", 0x232e), E("profline", 0x2312),
    E("profsurf", 0x2313), E("prop", 0x221d), E("propto", 0x221d), E("prsim", 0x227e),
    E("prurel", 0x22b0), E("pscr", 0x1d4c5), E("psi", 0x3c8), E("puncsp", 0x2008),
    E("qfr", 0x1d52e), E("qint", 0x2a0c), E("qopf", 0x1d562), E("qprime", 0x2057),
    E("qscr", 0x1d4c6), E("quaternions", 0x210d), E("quatint", 0x2a16), E("quest", 0x3f),
    E("questeq", 0x225f), L("quot", 0x22), E("rAarr", 0x21db), E("rArr", 0x21d2),
    E("rAtail", 0x291c), E("rBarr", 0x290f), E("rHar", 0x2964), E2("race", 0x223d, 0x331),
    E("racute", 0x155), E("radic", 0x221a), E("raemptyv", 0x29b3), E("rang", 0x27e9),
    E("rangd", 0x2992), E("range", 0x29a5), E("rangle", 0x27e9), L("raquo", 0xbb),
    E("rarr", 0x2192), E("rarrap", 0x2975), E("rarrb", 0x21e5), E("rarrbfs", 0x2920),
    E("rarrc", 0x2933), E("rarrfs", 0x291e), E("rarrhk", 0x21aa), E("rarrlp", 0x21ac),
    E("rarrpl", 0x2945), E("rarrsim", 0x2974), E("rarrtl", 0x21a3), E("rarrw", 0x219d),
    E("ratail", 0x291a), E("ratio", 0x2236), E("rationals", 0x211a), E("rbarr", 0x290d),
    E("rbbrk", 0x2773), E("rbrace", 0x7d), E("rbrack", 0x5d), E("rbrke", 0x298c),
    E("rbrksld", 0x298e), E("rbrkslu", 0x2990), E("rcaron", 0x159), E("rcedil", 0x157),
    E("rceil", 0x2309), E("rcub", 0x7d), E("rcy", 0x440), E("rdca", 0x2937), E("rdldhar", 0x2969),
    E("rdquo", 0x201d), E("rdquor", 0x201d), E("rdsh", 0x21b3), E("real", 0x211c),
    E("realine", 0x211b), E("realpart", 0x211c), E("reals", 0x211d), E("rect", 0x25ad),
    L("reg", 0xae), E("rfisht", 0x297d), E("rfloor", 0x230b), E("rfr", 0x1d52f),
    E("rhard", 0x21c1), E("rharu", 0x21c0), E("rharul", 0x296c), E("rho", 0x3c1), E("rhov", 0x3f1),
    E("rightarrow", 0x2192), E("rightarrowtail", 0x21a3), E("rightharpoondown", 0x21c1),
    E("rightharpoonup", 0x21c0), E("rightleftarrows", 0x21c4), E("rightleftharpoons", 0x21cc),
    E("rightrightarrows", 0x21c9), E("rightsquigarrow", 0x219d), E("rightthreetimes", 0x22cc),
    E("ring", 0x2da), E("risingdotseq", 0x2253), E("rlarr", 0x21c4), E("rlhar", 0x21cc),
    E("rlm", 0x200f), E("rmoust", 0x23b1), E("rmoustache", 0x23b1), E("rnmid", 0x2aee),
    E("roang", 0x27ed), E("roarr", 0x21fe), E("robrk", 0x27e7), E("ropar", 0x2986),
    E("ropf", 0x1d563), E("roplus", 0x2a2e), E("rotimes", 0x2a35), E("rpar", 0x29),
    E("rpargt", 0x2994), E("rppolint", 0x2a12), E("rrarr", 0x21c9), E("rsaquo", 0x203a),
    E("rscr", 0x1d4c7), E("rsh", 0x21b1), E("rsqb", 0x5d), E("rsquo", 0x2019), E("rsquor", 0x2019),
    E("rthree", 0x22cc), E("rtimes", 0x22ca), E("rtri", 0x25b9), E("rtrie", 0x22b5),
    E("rtrif", 0x25b8), E("rtriltri", 0x29ce), E("ruluhar", 0x2968), E("rx", 0x211e),
    E("sacute", 0x15b), E("sbquo", 0x201a), E("sc", 0x227b), E("scE", 0x2ab4), E("scap", 0x2ab8),
    E("scaron", 0x161), E("sccue", 0x227d), E("sce", 0x2ab0), E("scedil", 0x15f),
    E("scirc", 0x15d), E("scnE", 0x2ab6), E("scnap", 0x2aba), E("scnsim", 0x22e9),
    E("scpolint", 0x2a13), E("scsim", 0x227f), E("scy", 0x441), E("sdot", 0x22c5),
    E("sdotb", 0x22a1), E("sdote", 0x2a66), E("seArr", 0x21d8), E("searhk", 0x2925),
    E("searr", 0x2198), E("searrow", 0x2198), L("sect", 0xa7), E("semi", 0x3b),
    E("seswar", 0x2929), E("setminus", 0x2216), E("setmn", 0x2216), E("sext", 0x2736),
    E("sfr", 0x1d530), E("sfrown", 0x2322), E("sharp", 0x266f), E("shchcy", 0x449),
    E("shcy", 0x448), E("shortmid", 0x2223), E("shortparallel", 0x2225), L("shy", 0xad),
    E("sigma", 0x3c3), E("sigmaf", 0x3c2), E("sigmav", 0x3c2), E("sim", 0x223c),
    E("simdot", 0x2a6a), E("sime", 0x2243), E("simeq", 0x2243), E("simg", 0x2a9e),
    E("simgE", 0x2aa0), E("siml", 0x2a9d), E("simlE", 0x2a9f), E("simne", 0x2246),
    E("simplus", 0x2a24), E("simrarr", 0x2972), E("slarr", 0x2190), E("smallsetminus", 0x2216),
    E("smashp", 0x2a33), E("smeparsl", 0x29e4), E("smid", 0x2223), E("smile", 0x2323),
    E("smt", 0x2aaa), E("smte", 0x2aac), E2("smtes", 0x2aac, 0xfe00), E("softcy", 0x44c),
    E("sol", 0x2f), E("solb", 0x29c4), E("solbar", 0x233f), E("sopf", 0x1d564),
    E("spades", 0x2660), E("spadesuit", 0x2660), E("spar", 0x2225), E("sqcap", 0x2293),
    E2("sqcaps", 0x2293, 0xfe00), E("sqcup", 0x2294), E2("sqcups", 0x2294, 0xfe00),
    E("sqsub", 0x228f), E("sqsube", 0x2291), E("sqsubset", 0x228f), E("sqsubseteq", 0x2291),
    E("sqsup", 0x2290), E("sqsupe", 0x2292), E("sqsupset", 0x2290), E("sqsupseteq", 0x2292),
    E("squ", 0x25a1), E("square", 0x25a1), E("squarf", 0x25aa), E("squf", 0x25aa),
    E("srarr", 0x2192), E("sscr", 0x1d4c8), E("ssetmn", 0x2216), E("ssmile", 0x2323),
    E("sstarf", 0x22c6), E("star", 0x2606), E("starf", 0x2605), E("straightepsilon", 0x3f5),
    E("straightphi", 0x3d5), E("strns", 0xaf), E("sub", 0x2282), E("subE", 0x2ac5),
    E("subdot", 0x2abd), E("sube", 0x2286), E("subedot", 0x2ac3), E("submult", 0x2ac1),
    E("subnE", 0x2acb), E("subne", 0x228a), E("subplus", 0x2abf), E("subrarr", 0x2979),
    E("subset", 0x2282), E("subseteq", 0x2286), E("subseteqq", 0x2ac5), E("subsetneq", 0x228a),
    E("subsetneqq", 0x2acb), E("subsim", 0x2ac7), E("subsub", 0x2ad5), E("subsup", 0x2ad3),
    E("succ", 0x227b), E("succapprox", 0x2ab8), E("succcurlyeq", 0x227d), E("succeq", 0x2ab0),
    E("succnapprox", 0x2aba), E("succneqq", 0x2ab6), E("succnsim", 0x22e9), E("succsim", 0x227f),
    E("sum", 0x2211), E("sung", 0x266a), E("sup", 0x2283), L("sup1", 0xb9), L("sup2", 0xb2),
    L("sup3", 0xb3), E("supE", 0x2ac6), E("supdot", 0x2abe), E("supdsub", 0x2ad8),
    E("supe", 0x2287), E("supedot", 0x2ac4), E("suphsol", 0x27c9), E("suphsub", 0x2ad7),
    E("suplarr", 0x297b), E("supmult", 0x2ac2), E("supnE", 0x2acc), E("supne", 0x228b),
    E("supplus", 0x2ac0), E("supset", 0x2283), E("supseteq", 0x2287), E("supseteqq", 0x2ac6),
    E("supsetneq", 0x228b), E("supsetneqq", 0x2acc), E("supsim", 0x2ac8), E("supsub", 0x2ad4),
    E("supsup", 0x2ad6), E("swArr", 0x21d9), E("swarhk", 0x2926), E("swarr", 0x2199),
    E("swarrow", 0x2199), E("swnwar", 0x292a), L("szlig", 0xdf), E("target", 0x2316),
    E("tau", 0x3c4), E("tbrk", 0x23b4), E("tcaron", 0x165), E("tcedil", 0x163), E("tcy", 0x442),
    E("tdot", 0x20db), E("telrec", 0x2315), E("tfr", 0x1d531), E("there4", 0x2234),
    E("therefore", 0x2234), E("theta", 0x3b8), E("thetasym", 0x3d1), E("thetav", 0x3d1),
    E("thickapprox", 0x2248), E("thicksim", 0x223c), E("thinsp", 0x2009), E("thkap", 0x2248),
    E("thksim", 0x223c), L("thorn", 0xfe), E("tilde", 0x2dc), L("times", 0xd7),
    E("timesb", 0x22a0), E("timesbar", 0x2a31), E("timesd", 0x2a30), E("tint", 0x222d),
    E("toea", 0x2928), E("top", 0x22a4), E("topbot", 0x2336), E("topcir", 0x2af1),
    E("topf", 0x1d565), E("topfork", 0x2ada), E("tosa", 0x2929), E("tprime", 0x2034),
    E("trade", 0x2122), E("triangle", 0x25b5), E("triangledown", 0x25bf),
    E("triangleleft", 0x25c3), E("trianglelefteq", 0x22b4), E("triangleq", 0x225c),
    E("triangleright", 0x25b9), E("trianglerighteq", 0x22b5), E("tridot", 0x25ec),
    E("trie", 0x225c), E("triminus", 0x2a3a), E("triplus", 0x2a39), E("trisb", 0x29cd),
    E("tritime", 0x2a3b), E("trpezium", 0x23e2), E("tscr", 0x1d4c9), E("tscy", 0x446),
    E("tshcy", 0x45b), E("tstrok", 0x167), E("twixt", 0x226c), E("twoheadleftarrow", 0x219e),
    E("twoheadrightarrow", 0x21a0), E("uArr", 0x21d1), E("uHar", 0x2963), L("uacute", 0xfa),
    E("uarr", 0x2191), E("ubrcy", 0x45e), E("ubreve", 0x16d), L("ucirc", 0xfb), E("ucy", 0x443),
    E("udarr", 0x21c5), E("udblac", 0x171), E("udhar", 0x296e), E("ufisht", 0x297e),
    E("ufr", 0x1d532), L("ugrave", 0xf9), E("uharl", 0x21bf), E("uharr", 0x21be),
    E("uhblk", 0x2580), E("ulcorn", 0x231c), E("ulcorner", 0x231c), E("ulcrop", 0x230f),
    E("ultri", 0x25f8), E("umacr", 0x16b), L("uml", 0xa8), E("uogon", 0x173), E("uopf", 0x1d566),
    E("uparrow", 0x2191), E("updownarrow", 0x2195), E("upharpoonleft", 0x21bf),
    E("upharpoonright", 0x21be), E("uplus", 0x228e), E("upsi", 0x3c5), E("upsih", 0x3d2),
    E("upsilon", 0x3c5), E("upuparrows", 0x21c8), E("urcorn", 0x231d), E("urcorner", 0x231d),
    E("urcrop", 0x230e), E("uring", 0x16f), E("urtri", 0x25f9), E("uscr", 0x1d4ca),
    E("utdot", 0x22f0), E("utilde", 0x169), E("utri", 0x25b5), E("utrif", 0x25b4),
    E("uuarr", 0x21c8), L("uuml", 0xfc), E("uwangle", 0x29a7), E("vArr", 0x21d5),
    E("vBar", 0x2ae8), E("vBarv", 0x2ae9), E("vDash", 0x22a8), E("vangrt", 0x299c),
    E("varepsilon", 0x3f5), E("varkappa", 0x3f0), E("varnothing", 0x2205), E("varphi", 0x3d5),
    E("varpi", 0x3d6), E("varpropto", 0x221d), E("varr", 0x2195), E("varrho", 0x3f1),
    E("varsigma", 0x3c2), E2("varsubsetneq", 0x228a, 0xfe00), E2("varsubsetneqq", 0x2acb, 0xfe00),
    E2("varsupsetneq", 0x228b, 0xfe00), E2("varsupsetneqq", 0x2acc, 0xfe00), E("vartheta", 0x3d1),
    E("vartriangleleft", 0x22b2), E("vartriangleright", 0x22b3), E("vcy", 0x432),
    E("vdash", 0x22a2), E("vee", 0x2228), E("veebar", 0x22bb), E("veeeq", 0x225a),
    E("vellip", 0x22ee), E("verbar", 0x7c), E("vert", 0x7c), E("vfr", 0x1d533), E("vltri", 0x22b2),
    E2("vnsub", 0x2282, 0x20d2), E2("vnsup", 0x2283, 0x20d2), E("vopf", 0x1d567),
    E("vprop", 0x221d), E("vrtri", 0x22b3), E("vscr", 0x1d4cb), E2("vsubnE", 0x2acb, 0xfe00),
    E2("vsubne", 0x228a, 0xfe00), E2("vsupnE", 0x2acc, 0xfe00), E2("vsupne", 0x228b, 0xfe00),
    E("vzigzag", 0x299a), E("wcirc", 0x175), E("wedbar", 0x2a5f), E("wedge", 0x2227),
    E("wedgeq", 0x2259), E("weierp", 0x2118), E("wfr", 0x1d534), E("wopf", 0x1d568),
    E("wp", 0x2118), E("wr", 0x2240), E("wreath", 0x2240), E("wscr", 0x1d4cc), E("xcap", 0x22c2),
    E("xcirc", 0x25ef), E("xcup", 0x22c3), E("xdtri", 0x25bd), E("xfr", 0x1d535),
    E("xhArr", 0x27fa), E("xharr", 0x27f7), E("xi", 0x3be), E("xlArr", 0x27f8), E("xlarr", 0x27f5),
    E("xmap", 0x27fc), E("xnis", 0x22fb), E("xodot", 0x2a00), E("xopf", 0x1d569),
    E("xoplus", 0x2a01), E("xotime", 0x2a02), E("xrArr", 0x27f9), E("xrarr", 0x27f6),
    E("xscr", 0x1d4cd), E("xsqcup", 0x2a06), E("xuplus", 0x2a04), E("xutri", 0x25b3),
    E("xvee", 0x22c1), E("xwedge", 0x22c0), L("yacute", 0xfd), E("yacy", 0x44f), E("ycirc", 0x177),
    E("ycy", 0x44b), L("yen", 0xa5), E("yfr", 0x1d536), E("yicy", 0x457), E("yopf", 0x1d56a),
    E("yscr", 0x1d4ce), E("yucy", 0x44e), L("yuml", 0xff), E("zacute", 0x17a), E("zcaron", 0x17e),
    E("zcy", 0x437), E("zdot", 0x17c), E("zeetrf", 0x2128), E("zeta", 0x3b6), E("zfr", 0x1d537),
    E("zhcy", 0x436), E("zigrarr", 0x21dd), E("zopf", 0x1d56b), E("zscr", 0x1d4cf),
    E("zwj", 0x200d), E("zwnj", 0x200c),
};
// clang-format on
#undef E
#undef E2
#undef L

static int entity_cmp(const char *name, const char *p, size_t n)
{
    size_t k = strlen(name);
    int c = memcmp(name, p, k < n ? k : n);
    return c ? c : (k > n) - (k < n);
}

static const html_entity *entity_find(const char *p, size_t n)
{
    size_t lo = 0, hi = sizeof(html_entities) / sizeof(html_entities[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entity_cmp(html_entities[mid].name, p, n);
        if (c == 0)
            return &html_entities[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Numeric references 0x80-0x9F name windows-1252 characters (HTML5's table; Python's
 * _invalid_charrefs). The five holes stay the C1 control itself. */
static const uint16_t cp1252[32] = {
    0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
    0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178,
};

/* Python's _replace_charref for a number: the replacements of the HTML5 spec, then the
 * code points that are dropped (controls, noncharacters). */
static void put_numeric_ref(tp_buf *b, uint32_t num)
{
    if (num == 0 || (num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff)
        buf_put_cp(b, 0xfffd);
    else if (num >= 0x80 && num <= 0x9f)
        buf_put_cp(b, cp1252[num - 0x80]);
    else if ((num >= 1 && num <= 8) || num == 0xb || (num >= 0xe && num <= 0x1f) || num == 0x7f ||
             (num >= 0xfdd0 && num <= 0xfdef) || (num & 0xfffe) == 0xfffe)
        return;
    else
        buf_put_cp(b, num);
}

static int hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "&#123;", "&#x7b", ... at p (p[0] == '&', p[1] == '#'): appends the character and returns
 * the bytes used, or 0 when no digits follow. Big numbers saturate (they become U+FFFD). */
static size_t numeric_ref(tp_buf *b, const char *p, size_t n)
{
    bool hex = n > 2 && (p[2] == 'x' || p[2] == 'X');
    size_t i = hex ? 3 : 2, start = i;
    uint32_t num = 0;
    for (; i < n; i++) {
        int d = hex ? hexdigit((unsigned char)p[i]) : p[i] >= '0' && p[i] <= '9' ? p[i] - '0' : -1;
        if (d < 0)
            break;
        if (num <= 0x10ffff) /* saturates above: any bigger number is U+FFFD */
            num = num * (hex ? 16 : 10) + (uint32_t)d;
    }
    if (i == start)
        return 0;
    put_numeric_ref(b, num);
    return i < n && p[i] == ';' ? i + 1 : i;
}

/* A named reference at p (p[0] == '&'), as html.unescape reads one: up to 32 characters
 * that are not "\t\n\f <&#;", then an optional ';'. With the ';' the whole name must match;
 * else the longest legacy name that starts it does, and the rest stays text. Returns the
 * bytes replaced, or 0 (then the '&' is plain text). */
static size_t named_ref(tp_buf *b, const char *p, size_t n)
{
    size_t end = 1, chars = 0;
    for (; end < n && !memchr("\t\n\f <&#;", p[end], 8); end++)
        if (((unsigned char)p[end] & 0xc0) != 0x80 && ++chars > 32)
            break;
    const html_entity *e;
    if (end < n && p[end] == ';' && (e = entity_find(p + 1, end - 1))) {
        buf_put_cp(b, e->cp1);
        if (e->cp2)
            buf_put_cp(b, e->cp2);
        return end + 1;
    }
    for (size_t x = end - 1; x >= 2; x--)
        if ((e = entity_find(p + 1, x)) && e->bare) {
            buf_put_cp(b, e->cp1);
            return 1 + x;
        }
    return 0;
}

tp_slice tp_xhtml_unescape(tp_arena *a, tp_slice s)
{
    tp_buf b = {0};
    size_t i = 0;
    while (i < s.n) {
        const char *amp = memchr(s.p + i, '&', s.n - i);
        size_t at = amp ? (size_t)(amp - s.p) : s.n, used = 0;
        buf_put_slice(&b, (tp_slice){s.p + i, at - i});
        if (at == s.n)
            break;
        if (at + 1 < s.n && s.p[at + 1] == '#')
            used = numeric_ref(&b, s.p + at, s.n - at);
        else
            used = named_ref(&b, s.p + at, s.n - at);
        if (used == 0) {
            tp_buf_append(&b, "&", 1);
            used = 1;
        }
        i = at + used;
    }
    return buf_to_arena(a, &b);
}

/* ---- URLs --------------------------------------------------------------------------------- */

static bool url_safe(unsigned char c, bool plus)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '~' || (!plus && c == '/');
}

tp_slice tp_url_escape(tp_arena *a, tp_slice s, bool plus)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        n += url_safe(c, plus) || (plus && c == ' ') ? 1 : 3;
    }
    char *out = tp_arena_alloc(a, n + 1), *w = out;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (url_safe(c, plus)) {
            *w++ = (char)c;
        } else if (plus && c == ' ') {
            *w++ = '+';
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return (tp_slice){out, n};
}

tp_slice tp_url_unescape_slice(tp_arena *a, tp_slice s, bool plus)
{
    return tp_url_unescape(a, s, plus);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void put_zeros(tp_buf *b, int k)
{
    for (; k > 0; k--)
        tp_buf_append(b, "0", 1);
}

/* Python's repr(float): the shortest digits that read back as d (found by trying 1 to 17
 * significant digits), in positional notation when the decimal exponent is in -4..15 and
 * "1e+16" style otherwise. Runs in the "C" locale (see tp_json_encode). */
static void put_py_float(tp_buf *b, double d)
{
    char tmp[40], digits[20];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    const char *p = tmp;
    size_t nd = 0;
    if (*p == '-')
        tp_buf_append(b, p++, 1);
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int exp = atoi(p + 1), decpt = digits[0] == '0' ? 1 : exp + 1;
    if (decpt <= -4 || decpt > 16) {
        tp_buf_append(b, digits, 1);
        if (nd > 1) {
            tp_buf_append(b, ".", 1);
            tp_buf_append(b, digits + 1, nd - 1);
        }
        tp_buf_appendf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (decpt <= 0) {
        tp_buf_append(b, "0.", 2);
        put_zeros(b, -decpt);
        tp_buf_append(b, digits, nd);
    } else if ((size_t)decpt >= nd) {
        tp_buf_append(b, digits, nd);
        put_zeros(b, decpt - (int)nd);
        tp_buf_append(b, ".0", 2);
    } else {
        tp_buf_append(b, digits, (size_t)decpt);
        tp_buf_append(b, ".", 1);
        tp_buf_append(b, digits + decpt, nd - (size_t)decpt);
    }
}

/* A number token of jansson's output at p: a real (it has '.' or an exponent) is rewritten
 * as Python prints it, an integer copied. Returns the token's length. */
static size_t put_number(tp_buf *b, const char *p)
{
    size_t n = strspn(p, "0123456789+-.eE");
    if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n))
        put_py_float(b, strtod(p, NULL));
    else
        tp_buf_append(b, p, n);
    return n;
}

/* Turns jansson's output (ENSURE_ASCII, default separators) into json.dumps's plus
 * Tornado's "</" -> "<\/": jansson writes "\u00E9" where Python writes "\u00e9", leaves
 * DEL (0x7F) raw where Python writes "\u007f", and prints reals with 17 digits ("0.1" is
 * "0.10000000000000001", 1e16 "1e16"). Everything else, separators included, is already
 * Python's text. */
static void pythonize_json(tp_buf *b, const char *p)
{
    bool in_str = false;
    while (*p) {
        if (p[0] == '<' && p[1] == '/') {
            tp_buf_append(b, "<\\/", 3);
            p += 2;
        } else if (in_str && *p == '\\') {
            size_t k = p[1] == 'u' ? 6 : 2;
            char *w = tp_buf_reserve(b, k);
            for (size_t i = 0; i < k; i++)
                w[i] = i >= 2 && p[i] >= 'A' && p[i] <= 'F' ? (char)(p[i] | 0x20) : p[i];
            tp_buf_commit(b, k);
            p += k;
        } else if (in_str && *p == 0x7f) {
            tp_buf_append(b, "\\u007f", 6);
            p++;
        } else if (!in_str && (*p == '-' || (*p >= '0' && *p <= '9'))) {
            p += put_number(b, p);
        } else {
            if (*p == '"')
                in_str = !in_str;
            tp_buf_append(b, p++, 1);
        }
    }
}

/* strtod and printf follow LC_NUMERIC, which an app may have set to a locale with a decimal
 * comma; the reals are read and written in the "C" locale whatever it is. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* jansson keeps keys in insertion order (JSON_PRESERVE_ORDER only matters before 2.8), and
 * without JSON_COMPACT or JSON_INDENT it separates with ", " and ": " as json.dumps does. */
tp_slice tp_json_encode(tp_arena *a, const json_t *v)
{
    if (!v)
        return TP_SLICE_NULL;
    char *raw = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER |
                                  JSON_REAL_PRECISION(17));
    if (!raw)
        return TP_SLICE_NULL;
    pthread_once(&c_numeric_once, c_numeric_init);
    locale_t old = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    tp_buf b = {0};
    pythonize_json(&b, raw);
    if (old)
        uselocale(old);
    free(raw); /* jansson's default allocator is malloc */
    return buf_to_arena(a, &b);
}

json_t *tp_json_decode(tp_slice s, json_error_t *err)
{
    return json_loadb(s.n ? s.p : "", s.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, err);
}

/* ---- squeeze ------------------------------------------------------------------------------ */

tp_slice tp_squeeze(tp_arena *a, tp_slice s)
{
    char *out = tp_arena_alloc(a, s.n + 1), *w = out;
    for (size_t i = 0; i < s.n;) {
        if ((unsigned char)s.p[i] <= 0x20) {
            *w++ = ' ';
            while (i < s.n && (unsigned char)s.p[i] <= 0x20)
                i++;
        } else {
            *w++ = s.p[i++];
        }
    }
    tp_slice r = tp_py_strip((tp_slice){out, (size_t)(w - out)});
    ((char *)r.p)[r.n] = '\0';
    return r;
}

/* ---- linkify ------------------------------------------------------------------------------ */

/* Tornado's _URL_RE. Python's \s is spelt out (PCRE2's differs: it lacks 0x1C-0x1F), \w and
 * \b are Unicode ones as in Python (UCP). Invalid UTF-8 is never part of a link. */
#define PY_SPACE                                                                                   \
    "\\t\\n\\x0b\\f\\r\\x1c-\\x20\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"     \
    "\\x{202f}\\x{205f}\\x{3000}"
static const char url_pattern[] =
    "\\b((?:([\\w-]+):(/{1,3})|www[.])(?:(?:(?:[^" PY_SPACE "&()]|&amp;|&quot;)*"
    "(?:[^!\"#$%&'()*+,.:;<=>?@\\[\\]^`{|}~" PY_SPACE "]))|(?:\\((?:[^" PY_SPACE
    "&()]|&amp;|&quot;)*\\)))+)";

static pcre2_code *url_re;
static pthread_once_t url_re_once = PTHREAD_ONCE_INIT;

static void url_re_compile(void)
{
    int err;
    PCRE2_SIZE off;
    url_re = pcre2_compile((PCRE2_SPTR)url_pattern, PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if (!url_re) { /* a constant pattern: only a PCRE2 built without Unicode gets here */
        fprintf(stderr, "escape: cannot compile the linkify pattern (PCRE2 error %d)\n", err);
        abort();
    }
}

static bool protocol_permitted(const tp_linkify_opts *o, tp_slice proto)
{
    static const char *const defaults[] = {"http", "https", NULL};
    const char *const *list = o->permitted_protocols ? o->permitted_protocols : defaults;
    for (; *list; list++)
        if (tp_slice_eq(proto, tp_slice_cstr(*list)))
            return true;
    return false;
}

/* Tornado's clipping of a long link's text (max_len 30): host plus the first bit of the
 * path, or the first 30 characters; never inside an entity; "..." added. The result is
 * always a prefix of url, so it is returned as its length in bytes; url.n means no clip.
 * Lengths and positions count characters, as Python's do. */
static size_t shorten_len(tp_slice url, size_t proto_len)
{
    size_t keep = url.n;
    const char *slash = memchr(url.p + proto_len, '/', url.n - proto_len);
    if (slash) {
        const char *p1 = slash + 1, *end = url.p + url.n;
        size_t take = cp_prefix(p1, (size_t)(end - p1), 8);
        for (size_t i = 0; i < take; i++)
            if (p1[i] == '?' || p1[i] == '.' || p1[i] == '/') {
                take = i;
                break;
            }
        keep = (size_t)(p1 - url.p) + take;
    }
    if (cp_count(url.p, keep) > 45)
        keep = cp_prefix(url.p, keep, 30);
    if (keep == url.n)
        return url.n;
    const char *amp = memrchr(url.p, '&', keep);
    if (amp && cp_count(url.p, (size_t)(amp - url.p)) > 25)
        keep = (size_t)(amp - url.p);
    return cp_count(url.p, keep) + 3 >= cp_count(url.p, url.n) ? url.n : keep;
}

/* " " + the stripped text, as Tornado puts extra_params into the tag. */
static tp_slice tag_params(tp_arena *a, tp_slice extra)
{
    tp_slice t = tp_py_strip(extra);
    char *p = tp_arena_alloc(a, t.n + 2);
    p[0] = ' ';
    if (t.n)
        memcpy(p + 1, t.p, t.n);
    p[t.n + 1] = '\0';
    return (tp_slice){p, t.n + 1};
}

/* Tornado's make_link for one match (ov: PCRE2's offsets into t, the escaped text); params
 * is the tag text from extra_params (empty, or " " and the stripped text). */
static void put_link(tp_buf *b, tp_arena *a, tp_slice t, const PCRE2_SIZE *ov,
                     const tp_linkify_opts *o, tp_slice params)
{
    tp_slice url = {t.p + ov[2], ov[3] - ov[2]};
    bool has_proto = ov[4] != PCRE2_UNSET;
    if ((o->require_protocol && !has_proto) ||
        (has_proto && !protocol_permitted(o, (tp_slice){t.p + ov[4], ov[5] - ov[4]}))) {
        buf_put_slice(b, url);
        return;
    }
    tp_slice href = url;
    if (!has_proto) {
        char *h = tp_arena_alloc(a, url.n + 8); /* the text may hold NULs: no printf */
        memcpy(h, "http://", 7);
        memcpy(h + 7, url.p, url.n);
        h[url.n + 7] = '\0';
        href = (tp_slice){h, url.n + 7};
    }
    if (o->extra_params_fn)
        params = tag_params(a, o->extra_params_fn(o->extra_params_data, a, href));
    size_t shown = url.n;
    if (o->shorten && cp_count(url.p, url.n) > 30)
        shown = shorten_len(url, has_proto ? ov[7] - ov[2] : 0);
    tp_buf_append_str(b, "<a href=\"");
    buf_put_slice(b, href);
    tp_buf_append(b, "\"", 1);
    buf_put_slice(b, params);
    if (shown < url.n) { /* the full URL shows on mouse-over */
        tp_buf_append_str(b, " title=\"");
        buf_put_slice(b, href);
        tp_buf_append(b, "\"", 1);
    }
    tp_buf_append(b, ">", 1);
    buf_put_slice(b, (tp_slice){url.p, shown});
    tp_buf_append_str(b, shown < url.n ? "...</a>" : "</a>");
}

tp_slice tp_linkify(tp_arena *a, tp_slice s, const tp_linkify_opts *o)
{
    static const tp_linkify_opts defaults;
    if (!o)
        o = &defaults;
    pthread_once(&url_re_once, url_re_compile);
    tp_slice t = tp_xhtml_escape(a, s), params = TP_SLICE_LIT("");
    if (o->extra_params && *o->extra_params && !o->extra_params_fn)
        params = tag_params(a, tp_slice_cstr(o->extra_params));
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(url_re, NULL);
    if (!md)
        abort(); /* out of memory, as tp_malloc would */
    tp_buf b = {0};
    size_t pos = 0;
    /* A failed match (no link left, or PCRE2's match limit) leaves the rest as text. */
    while (pos < t.n && pcre2_match(url_re, (PCRE2_SPTR)t.p, t.n, pos, 0, md, NULL) > 0) {
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        buf_put_slice(&b, (tp_slice){t.p + pos, ov[0] - pos});
        put_link(&b, a, t, ov, o, params);
        pos = ov[1];
    }
    pcre2_match_data_free(md);
    buf_put_slice(&b, (tp_slice){t.p + pos, t.n - pos});
    return buf_to_arena(a, &b);
}
