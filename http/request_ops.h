/* The response calls of http/request.h for requests that did not come over HTTP/1.1: a
 * request with req->ops set is served by them (HTTP/2 streams), one NULL test on the
 * HTTP/1.1 path. */
#ifndef TP_HTTP_REQUEST_OPS_H
#define TP_HTTP_REQUEST_OPS_H

#include "core/stream.h"
#include "http/request.h"

struct tp_request_ops {
    int (*write_head)(tp_request *req, int status, tp_slice reason, const tp_headers *h);
    int (*write_body)(tp_request *req, const void *p, size_t n);
    int (*sendfile)(tp_request *req, int fd, off_t off, size_t n, bool close_fd);
    void (*finish)(tp_request *req);
    bool (*client_gone)(const tp_request *req);
    bool (*head_written)(const tp_request *req);
    void (*pause_body)(tp_request *req, bool pause);
    size_t (*output_pending)(const tp_request *req);
    int (*when_drained)(tp_request *req, tp_write_fn fn, void *arg);
    void (*abort)(tp_request *req);
    bool (*xheaders)(const tp_request *req);
    tp_slice (*peer_ip)(tp_request *req);
};

#endif
