import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { jsonResponse, renderWithApp } from '../test/render';
import { AddRepositoryDialog } from './AddRepository';

describe('AddRepositoryDialog', () => {
  it('adds a Git URL with a name derived from it; the token is sent once and not echoed', async () => {
    const bodies: unknown[] = [];
    const fetchFn = vi.fn(async (_u: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return jsonResponse(201, { id: 'repo_9', name: 'vega', ingest_status: 'pending' });
    }) as unknown as typeof fetch;
    const onCreated = vi.fn();
    renderWithApp(<AddRepositoryDialog projectId="prj_1" onClose={() => undefined} onCreated={onCreated} />, { fetch: fetchFn });
    expect(screen.getByRole('tab', { name: 'Git URL' })).toHaveAttribute('aria-selected', 'true');
    await userEvent.type(screen.getByRole('textbox', { name: 'Git URL' }), 'https://github.com/vegasec/vega.git');
    await userEvent.type(screen.getByLabelText(/Access token/), 'ghp_secret');
    await userEvent.click(screen.getByRole('button', { name: 'Add repository' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(bodies[0]).toEqual({ name: 'vega', git_url: 'https://github.com/vegasec/vega.git', git_token: 'ghp_secret' });
    expect(screen.getByLabelText(/Access token/)).toHaveAttribute('type', 'password');
  });

  it('shows the one-time push command for a git push remote', async () => {
    const fetchFn = vi.fn(async (u: RequestInfo | URL) =>
      String(u).endsWith('/v1/git-uploads')
        ? jsonResponse(201, { id: 'gup_1', remote_url: 'http://127.0.0.1:8000/git/tok123.git', expires_at: '2026-01-01T01:00:00Z' })
        : jsonResponse(200, { id: 'gup_1', status: 'waiting' }),
    ) as unknown as typeof fetch;
    renderWithApp(<AddRepositoryDialog projectId="prj_1" onClose={() => undefined} onCreated={() => undefined} />, { fetch: fetchFn });
    await userEvent.click(screen.getByRole('tab', { name: 'Git push' }));
    await userEvent.type(screen.getByLabelText('Repository name'), 'pushed');
    await userEvent.click(screen.getByRole('button', { name: 'Create push remote' }));
    expect(await screen.findByLabelText('Push command')).toHaveValue('git push http://127.0.0.1:8000/git/tok123.git HEAD:refs/heads/main');
    expect(screen.getByRole('status')).toHaveTextContent('Waiting for your push');
  });

  it('moves focus along the source tabs with the arrow keys, Home and End (WAI-ARIA tabs)', async () => {
    const fetchFn = vi.fn(async () => jsonResponse(200, {})) as unknown as typeof fetch;
    renderWithApp(<AddRepositoryDialog projectId="prj_1" onClose={() => undefined} onCreated={() => undefined} />, { fetch: fetchFn });
    const tab = (name: string) => screen.getByRole('tab', { name });
    tab('Git URL').focus();
    const expectAt = (name: string) => {
      expect(tab(name)).toHaveFocus();
      expect(tab(name)).toHaveAttribute('aria-selected', 'true');
      expect(tab(name)).toHaveAttribute('tabindex', '0');
      expect(screen.getByRole('tabpanel')).toHaveAttribute('aria-labelledby', tab(name).id);
    };
    await userEvent.keyboard('{ArrowRight}');
    expectAt('Upload archive');
    await userEvent.keyboard('{ArrowRight}');
    expectAt('Git push');
    await userEvent.keyboard('{ArrowRight}');
    expectAt('Git URL'); // wraps
    await userEvent.keyboard('{ArrowLeft}');
    expectAt('Git push');
    await userEvent.keyboard('{Home}');
    expectAt('Git URL');
    await userEvent.keyboard('{End}');
    expectAt('Git push');
    expect(tab('Git URL')).toHaveAttribute('tabindex', '-1');
  });
});
