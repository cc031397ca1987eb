import { describe, expect, it } from "vitest";
import { ProgressBar } from "../../src/replay/progress.ts";

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { written: string[] } {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream & { written: string[] };
}

describe("ProgressBar", () => {
  it("is wanted only on a terminal and for a large file", () => {
    expect(ProgressBar.wanted(1 << 30, fakeStream(true))).toBe(true);
    expect(ProgressBar.wanted(1 << 30, fakeStream(false))).toBe(false);
    expect(ProgressBar.wanted(1 << 20, fakeStream(true))).toBe(false);
  });

  it("asks to be drawn once every 65,536 packets, draws the fraction read, and clears itself", () => {
    const stream = fakeStream(true);
    const bar = new ProgressBar(1000, stream);
    let due = 0;
    for (let i = 0; i < 3 * 65_536; i++) if (bar.due()) due++;
    expect(due).toBe(3);
    bar.show(500, 1234);
    expect(stream.written).toHaveLength(1);
    expect(stream.written[0]).toMatch(/^\r\x1b\[2K\[#{15}\.{15}\]  50\.0%  1,234 packets  [\d.]+[KMBT]? packets\/s  elapsed 0:\d\d  ETA 0:\d\d$/);
    bar.show(600, 1300); // within the redraw interval: not drawn
    expect(stream.written).toHaveLength(1);
    bar.clear();
    expect(stream.written[1]).toBe("\r\x1b[2K");
  });
});
