"use client";

import { useEffect, useState } from "react";
import { applyTheme, THEME_KEY, type ThemeChoice } from "~/lib/theme";
import { Button } from "~/components/ui";

const order: ThemeChoice[] = ["system", "light", "dark"];
const labels: Record<ThemeChoice, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
const icons: Record<ThemeChoice, string> = { system: "◐", light: "☀", dark: "☾" };

export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>("system");

  useEffect(() => {
    const stored = localStorage.getItem(THEME_KEY);
    if (stored === "light" || stored === "dark" || stored === "system") setChoice(stored);
  }, []);

  useEffect(() => {
    applyTheme(choice);
    if (choice !== "system") return;
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => applyTheme("system");
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, [choice]);

  return (
    <Button
      variant="ghost"
      size="sm"
      data-testid="theme-toggle"
      title="Switch colour theme"
      onClick={() => {
        const next = order[(order.indexOf(choice) + 1) % order.length]!;
        localStorage.setItem(THEME_KEY, next);
        setChoice(next);
      }}
    >
      <span aria-hidden>{icons[choice]}</span>
      {labels[choice]}
    </Button>
  );
}
