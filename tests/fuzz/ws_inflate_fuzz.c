/* libFuzzer target for http/websocket/deflate.h. Input: one byte of parameters (bits 0-2:
 * window bits 8 + n; bit 3: the peer's no_context_takeover; bit 4: we are the client; bits
 * 5-7: max = 64 << n), then frames, each a length byte (bit 7: fin, bits 0-6: length) and
 * that many bytes, fed to the inflater. Checks: only 0, -EMSGSIZE or -EINVAL come back, the
 * output never passes max, and every message inflated comes back the same through our
 * deflater and a fresh inflater. The whole input is also read as a Sec-WebSocket-Extensions
 * offer: an accepted one's response must read back, as an answer, to the same parameters. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "http/websocket/deflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* msg through a deflater and inflater that keep no context: the same bytes come out. */
static void recompress(tp_slice msg, int bits)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    p.server_max_window_bits = p.client_max_window_bits = bits;
    p.server_no_context_takeover = p.client_no_context_takeover = true;
    tp_ws_deflater *d = tp_ws_deflater_new(&p, false);
    tp_ws_inflater *in = tp_ws_inflater_new(&p, true);
    tp_buf z = {0}, out = {0};
    assert(d && in && tp_ws_deflate_message(d, msg, &z) == 0);
    assert(tp_ws_inflate_frame(in, tp_buf_slice(&z), true, msg.n, &out) == 0);
    assert(tp_slice_eq(tp_buf_slice(&out), msg));
    tp_buf_free(&z);
    tp_buf_free(&out);
    tp_ws_deflater_free(d);
    tp_ws_inflater_free(in);
}

static void frames(const uint8_t *data, size_t size)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    int bits = 8 + (data[0] & 7);
    bool is_client = data[0] & 16;
    size_t max = (size_t)64 << (data[0] >> 5);
    p.server_max_window_bits = p.client_max_window_bits = bits;
    p.server_no_context_takeover = p.client_no_context_takeover = data[0] & 8;
    tp_ws_inflater *in = tp_ws_inflater_new(&p, is_client);
    assert(in);
    tp_buf out = {0};
    for (size_t i = 1; i < size;) {
        bool fin = data[i] & 0x80;
        size_t n = data[i] & 0x7f;
        i++;
        n = n < size - i ? n : size - i;
        int rc = tp_ws_inflate_frame(in, tp_slice_make((const char *)data + i, n), fin, max, &out);
        i += n;
        assert(rc == 0 || rc == -EMSGSIZE || rc == -EINVAL);
        assert(out.len <= max);
        if (!rc && fin)
            recompress(tp_buf_slice(&out), bits);
        if (rc || fin)
            tp_buf_clear(&out);
    }
    tp_buf_free(&out);
    tp_ws_inflater_free(in);
}

static void negotiate(tp_slice header)
{
    tp_ws_deflate_params ours = tp_ws_deflate_defaults(), got, back;
    tp_buf resp = {0};
    int rc = tp_ws_deflate_accept_offer(header, &ours, &got, &resp);
    assert(rc == 0 || rc == -ENOENT || rc == -EINVAL);
    if (!rc) {
        assert(tp_ws_deflate_read_answer(tp_buf_slice(&resp), &ours, &back) == 0);
        assert(back.server_no_context_takeover == got.server_no_context_takeover);
        assert(back.client_no_context_takeover == got.client_no_context_takeover);
        assert(back.server_max_window_bits == got.server_max_window_bits);
        assert(back.client_max_window_bits == got.client_max_window_bits);
    }
    tp_buf_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    frames(data, size);
    negotiate(tp_slice_make((const char *)data, size));
    return 0;
}
