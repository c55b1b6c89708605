"""Write every golden scene's frame, raw RGB565 (high byte first), to DIR/BOARD-SCENE.rgb565.

Run on either runtime: ``micropython render_frames.py DIR`` (tests/test_screen_golden.py).
"""
import sys

from screen_scenes import BOARDS, scenes


def main(out):
    for board in BOARDS:
        for name, panel in scenes(board):
            with open("%s/%s-%s.rgb565" % (out, board, name), "wb") as f:
                f.write(panel.frame)
            print("%s-%s %dx%d" % (board, name, panel.w, panel.h))


if __name__ == "__main__":
    main(sys.argv[1])
