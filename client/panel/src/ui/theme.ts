import { css } from "lit";

/**
 * Design tokens shared by the components. Hosts restyle them through the custom properties
 * (`--cm-accent`, `--cm-surface`, …) set on any ancestor.
 */
export const theme = css`
  :host {
    --_accent: var(--cm-accent, #6d5dfc);
    --_text: var(--cm-text, #1d1d27);
    --_muted: var(--cm-muted, #6b6b7b);
    --_surface: var(--cm-surface, #ffffff);
    --_border: var(--cm-border, #e6e6ee);
    --_radius: var(--cm-radius, 12px);
    --_warn-bg: var(--cm-warn-bg, #fff4c2);
    --_warn-border: var(--cm-warn-border, #f2d24b);
    --_warn-text: var(--cm-warn-text, #5c4700);
    font-family: var(--cm-font, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
    color: var(--_text);
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .num {
    font-variant-numeric: tabular-nums;
  }
  .stale .num {
    opacity: 0.55;
  }
  .hint {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    font-size: 12px;
    color: var(--_muted);
  }
  .hint::before {
    content: "";
    width: 7px;
    height: 7px;
    border-radius: 50%;
    background: #e0a100;
  }
`;
