import { render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import { SeverityBadge, SeverityCounts, severityLinks } from './Badges';

describe('severity pills', () => {
  it('link each count to the list filtered by its severity', () => {
    render(
      <MemoryRouter>
        <SeverityCounts counts={{ critical: 2, high: 0, medium: 5, low: 0, info: 0 }} compact to={severityLinks.project('prj_1')} />
      </MemoryRouter>,
    );
    const list = screen.getByRole('list', { name: 'Findings by severity' });
    const links = within(list).getAllByRole('link');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/projects/prj_1/findings?severity=critical', '/projects/prj_1/findings?severity=medium']);
    expect(links[0]).toHaveTextContent('2 Critical');
  });

  it('open a scan on every status, since its counts are of every status', () => {
    expect(severityLinks.scan('scan_1')('high')).toBe('/scans/scan_1?severity=high&status=all');
    expect(severityLinks.repository('repo_1')('low')).toBe('/repositories/repo_1/findings?severity=low');
  });

  it('link a single badge when given a target, and stay text without one', () => {
    render(
      <MemoryRouter>
        <SeverityBadge severity="high" to="/repositories/repo_1/findings?severity=high" />
        <SeverityBadge severity="low" />
      </MemoryRouter>,
    );
    expect(screen.getByRole('link', { name: /High/ })).toHaveAttribute('href', '/repositories/repo_1/findings?severity=high');
    expect(screen.getByText('Low').closest('a')).toBeNull();
  });
});
