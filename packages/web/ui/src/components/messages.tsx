// A page's outcome lines: an error (announced at once, role alert) and a notice (role status).

export function Messages({ error, notice }: { error?: string | undefined; notice?: string | undefined }) {
  return (
    <>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" class="ok">
          {notice}
        </p>
      )}
    </>
  );
}
