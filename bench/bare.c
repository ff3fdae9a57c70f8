/* bare.c - the baseline for bench/run.sh: libmicrohttpd set up like moderatord (thread pool of one
 * thread per CPU, epoll) that reads the body and answers a fixed JSON verdict. The difference to
 * moderatord is the cost of parsing, the engine, the store and the commit wait.
 * Usage: bare [PORT]   (0 or none = ephemeral; prints "listening on 127.0.0.1:PORT") */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char bare_reply[] =
    "{\"id\":\"00000000000000000000000000000000\",\"verdict\":\"accept\",\"state\":\"accepted\","
    "\"score\":0.0,\"categories\":{\"profanity\":0.0,\"personal_attack\":0.0,\"ethnic_slur\":0.0},"
    "\"matches\":[],\"ruleset\":\"0000000000000000\",\"duplicate\":false}";

static enum MHD_Result bare_access(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *data,
                                   size_t *size, void **state)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data;
    if (!*state) { /* first call: headers only */
        *state = (void *)1;
        return MHD_YES;
    }
    if (*size) { /* body: read and dropped */
        *size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof bare_reply - 1,
                                                             (void *)bare_reply,
                                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, (uint16_t)port, NULL, NULL,
        bare_access, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(cpus < 1 ? 1 : cpus), MHD_OPTION_CONNECTION_LIMIT, 1000u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare: cannot listen\n");
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on 127.0.0.1:%u\n", di ? di->port : port);
    fflush(stdout);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int sig;
    sigwait(&s, &sig);
    MHD_stop_daemon(d);
    return 0;
}
