import io
import threading

from infra.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_moves_and_steps_get_lines_of_their_own():
    screen = Terminal()
    progress = Progress(screen)
    progress.say("copying")
    progress.start(200, "rows")
    progress.update(50)
    progress.update(51)  # the same percent: nothing drawn again
    progress.update(200)
    progress.say("indexing")
    assert screen.getvalue() == (
        "… copying\n"
        "\r[######                   ]  25% of 200 rows"
        "\r[#########################] 100% of 200 rows\n"
        "… indexing\n"
    )


def test_parts_on_threads_add_up():
    screen = Terminal()
    progress = Progress(screen)
    progress.start(4000)
    threads = [threading.Thread(target=progress.advance, args=(1000,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert progress.done == 4000
    assert screen.getvalue().endswith("100%")


def test_in_cron_and_logs_nothing_is_drawn():
    log = io.StringIO()  # not a terminal
    progress = Progress(log)
    progress.start(10)
    progress.update(5)
    progress.say("step")
    progress.close()
    assert log.getvalue() == ""
    Progress.silent().say("nobody watches")
