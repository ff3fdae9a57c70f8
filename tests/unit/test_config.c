/* test_config.c - unit tests for the settings table: values, the file reader (every problem as
 * file:line), and flags overriding the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

static void test_defaults(void **state)
{
    (void)state;
    config c;
    config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_string_equal(c.db, "/var/lib/moderatord/moderatord.db");
    assert_string_equal(c.rules, "/etc/moderatord/rules");
    assert_string_equal(c.thresholds, "");
    assert_int_equal(c.max_body, 64 * 1024);
    assert_int_equal(c.connection_timeout, 30);
    assert_int_equal(c.log_level, LOGL_INFO);
    assert_int_equal(c.watch_rules, 1);
    assert_int_equal(c.reload_delay, 300);
    assert_int_equal(c.rules_strict, 0);
    assert_null(c.config_file);
    config_free(&c);
}

static void test_values(void **state)
{
    (void)state;
    config c;
    config_defaults(&c);
    char why[256];
    assert_int_equal(config_set(&c, "max_body", "1M", why, sizeof why), 0);
    assert_int_equal(c.max_body, 1024 * 1024);
    assert_int_equal(config_set(&c, "max-body", "2KiB", why, sizeof why), 0);
    assert_int_equal(c.max_body, 2048);
    assert_int_equal(config_set(&c, "max_body", "0", why, sizeof why), -1);
    assert_non_null(strstr(why, "not a size"));
    assert_int_equal(c.max_body, 2048); /* a bad value leaves the old one */
    assert_int_equal(config_set(&c, "connection_timeout", "2m", why, sizeof why), 0);
    assert_int_equal(c.connection_timeout, 120);
    assert_int_equal(config_set(&c, "reload_delay", "2s", why, sizeof why), 0);
    assert_int_equal(c.reload_delay, 2000);
    assert_int_equal(config_set(&c, "watch_rules", "off", why, sizeof why), 0);
    assert_int_equal(c.watch_rules, 0);
    assert_int_equal(config_set(&c, "log_level", "debug", why, sizeof why), 0);
    assert_int_equal(c.log_level, LOGL_DEBUG);
    assert_int_equal(config_set(&c, "listen", "[::1]:9000", why, sizeof why), 0);
    assert_int_equal(config_set(&c, "listen", "localhost", why, sizeof why), -1);
    assert_int_equal(config_set(&c, "listen", "1.2.3.4:70000", why, sizeof why), -1);
    assert_int_equal(config_set(&c, "threads", "-1", why, sizeof why), -1);
    assert_int_equal(config_set(&c, "rules", "", why, sizeof why), -1);
    assert_int_equal(config_set(&c, "max_bodi", "1", why, sizeof why), -1);
    assert_non_null(strstr(why, "did you mean max_body?"));
    config_free(&c);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/test_config.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_file_reports_every_problem(void **state)
{
    (void)state;
    char *path = write_tmp("# settings\n"
                           "listen = 0.0.0.0:80   # all interfaces\n"
                           "max_body: 2K\n"
                           "web \"/srv/my web#1\"\n"
                           "max_body huge\n"
                           "colour blue\n"
                           "   \n"
                           "rules \"open\n");
    config c;
    config_defaults(&c);
    config_errors e = {0};
    assert_int_equal(config_read_file(&c, path, 1, &e), 3);
    assert_string_equal(c.listen, "0.0.0.0:80");
    assert_int_equal(c.max_body, 2048);
    assert_string_equal(c.web, "/srv/my web#1");
    assert_string_equal(c.config_file, path);
    assert_int_equal(e.count, 3);
    char want[256];
    snprintf(want, sizeof want, "%s:5: max_body: \"huge\"", path);
    assert_non_null(strstr(e.items[0], want));
    snprintf(want, sizeof want, "%s:6: colour: unknown setting", path);
    assert_non_null(strstr(e.items[1], want));
    snprintf(want, sizeof want, "%s:8: ", path);
    assert_non_null(strstr(e.items[2], want));
    config_errors_free(&e);
    config_free(&c);
    unlink(path);
    free(path);

    config_defaults(&c);
    assert_int_equal(config_read_file(&c, "/nonexistent/moderatord.conf", 0, &e), 0);
    assert_null(c.config_file);
    assert_int_equal(config_read_file(&c, "/nonexistent/moderatord.conf", 1, &e), -1);
    assert_int_equal(e.count, 1);
    config_errors_free(&e);
    config_free(&c);
}

static void test_flags_override_the_file(void **state)
{
    (void)state;
    char *path = write_tmp("max_body 1K\nlog_level error\nthreads 3\n");
    char *argv[] = {"moderatord", "--threads", "5", "--config", path, "--max-body=8K", "-n", NULL};
    config c;
    config_defaults(&c);
    config_action a;
    config_errors e = {0};
    assert_int_equal(config_from_args(7, argv, &c, &a, &e), 0);
    assert_int_equal(a, CONFIG_CHECK);
    assert_int_equal(c.max_body, 8 * 1024); /* the flag, though the file comes later */
    assert_int_equal(c.threads, 5);
    assert_int_equal(c.log_level, LOGL_ERROR); /* the file */
    config_free(&c);

    char *bad[] = {"moderatord", "--config", path, "--nope", "1", "--max-body", "x", "stray",
                   NULL};
    config_defaults(&c);
    assert_int_equal(config_from_args(8, bad, &c, &a, &e), -1);
    assert_int_equal(e.count, 3);
    assert_non_null(strstr(e.items[0], "unknown option --nope"));
    assert_non_null(strstr(e.items[1], "--max-body: \"x\""));
    assert_non_null(strstr(e.items[2], "unexpected argument \"stray\""));
    config_errors_free(&e);
    config_free(&c);

    char *help[] = {"moderatord", "--config", "/nonexistent", "-h", NULL};
    config_defaults(&c);
    assert_int_equal(config_from_args(4, help, &c, &a, &e), 0);
    assert_int_equal(a, CONFIG_HELP);
    config_free(&c);
    unlink(path);
    free(path);
}

static void test_print_round_trips(void **state)
{
    (void)state;
    config c, d;
    config_defaults(&c);
    char why[128];
    config_set(&c, "max_body", "3K", why, sizeof why);
    config_set(&c, "rules_strict", "yes", why, sizeof why);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print(&c, f);
    fclose(f);
    char *path = write_tmp(buf);
    config_defaults(&d);
    config_errors e = {0};
    assert_int_equal(config_read_file(&d, path, 1, &e), 0);
    assert_int_equal(d.max_body, 3 * 1024);
    assert_int_equal(d.rules_strict, 1);
    assert_string_equal(d.listen, c.listen);
    assert_string_equal(d.thresholds, "");
    config_free(&c);
    config_free(&d);
    unlink(path);
    free(path);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_file_reports_every_problem),
        cmocka_unit_test(test_flags_override_the_file),
        cmocka_unit_test(test_print_round_trips),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
