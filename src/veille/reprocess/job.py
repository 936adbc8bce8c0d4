"""Reprocess archives on Apache Spark: the per-record work spread over a cluster, the
store written and the stories built as on one machine.

1. Workers read the inputs as splits (byte ranges of WARC archives, whole files
   otherwise; URLs through Spark's Hadoop filesystems, a whole file per task) and tell the
   driver each document's raw digest and blocks (`work.read_split`, `work.examine`).
2. The items are numbered as `veille ingest` meets them and cut into its batches. The
   driver works out, batch by batch as `veille ingest` would, which batches hold only
   inputs read before unchanged (not extracted again) and each other batch's site
   template memory (`unchanged`, `learn_templates`, in a transaction rolled back).
3. Workers extract each batch's documents with that memory, clean the batch across its
   sites' pages, find its articles' entity mentions, the costliest step, and their
   sentence vectors, with the models loaded once per worker process
   (`work.extract_item`, `work.finish_batch`).
4. The driver takes the batches in order and stores them as `veille ingest` does: the
   batch's new pages learned, then each article with its raw digest and its mentions in
   one transaction (`save_extracted`), its vector with its place in the grouping queue;
   then the pipeline's
   own stages after storing run over the store's queue (`pipeline.process`): the copies
   and stories are built in their one canonical order, and the understanding reuses the
   mentions and vectors kept, so the stories are those of `veille ingest` on the same
   inputs. The work these stages would fork out on one machine (each story's
   understanding, the vectors not kept) goes to the executors (`parallel.spread_over`);
   the driver groups and writes.

Idempotent and resumable: the store is only written in step 4, by the same calls as
`veille ingest`, so a job run again (after a crash of the driver, say) skips the batches
stored whole, extracts the others with the memory `veille ingest` would have, and finishes
what was left; a worker that dies has its tasks run again by Spark.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from veille.config import Settings
from veille.enrich.entities import Mention
from veille.enrich.stage import text_key
from veille.enrich.story import entity_text
from veille.extract.stage import learn_templates, save_extracted, unchanged
from veille.extract.template import PageBlocks, SiteTemplate
from veille.i18n import _
from veille.model import Article, Failure, IngestReport, RawDocument, Skip, Source
from veille.parallel import spread_over
from veille.pipeline import BATCH_SIZE, process
from veille.reprocess import work
from veille.sources.local import files_under
from veille.store import Outcome, Store

# Splits are cut so each worker gets several (a slow one does not hold the job), within
# these bounds.
_MIN_SPLIT = 1 << 20
_MAX_SPLIT = 128 << 20
_SPLITS_PER_CORE = 4
# Slices per core of the stages' work after storing (sentence vectors, understanding).
_SLICES_PER_CORE = 2
# Batches per partition of the final stage: a few thousand articles each.
_BATCHES_PER_PARTITION = 20
# A task that fails (a worker killed, a node lost) is tried again this many times.
_TASK_TRIES = 4


class SparkUnavailable(RuntimeError):
    """pyspark (or Java) is missing; the message says what to install."""


@dataclass
class ReprocessReport(IngestReport):
    records: int = 0  # items read from the inputs: documents, and records that failed
    splits: int = 0
    tasks_failed: int = 0  # tasks Spark ran again (a worker lost, a task killed)
    map_seconds: float = 0.0  # read, extract, clean, mentions: on the workers
    store_seconds: float = 0.0  # articles and mentions written by the driver
    process_seconds: float = 0.0  # index, copies, stories, understanding
    # The driver's CPU seconds in those two (they run on one core, whatever the cluster).
    store_cpu: float = 0.0
    process_cpu: float = 0.0


def reprocess(
    inputs: list[str],
    store: Store,
    settings: Settings,
    master: str = "local[*]",
    conf: dict[str, str] | None = None,
    *,
    split_bytes: int | None = None,
    on_progress: Callable[[str], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> ReprocessReport:
    """Read `inputs` (paths, or URLs Spark reads) on Spark, store what `veille ingest`
    would, then group and understand."""
    report = ReprocessReport()
    context = _context(master, conf or {})
    watcher = _Watcher(context, report, on_progress, stop)
    try:
        with store.writer(on_wait):
            began = time.perf_counter()
            mapped = _map(context, inputs, settings, split_bytes, store, report, watcher)
            report.map_seconds = time.perf_counter() - began
            if report.stopped:
                return report
            results, pages = mapped if mapped is not None else (None, {})
            for source in _sources(inputs):
                store.ensure_source(source)
            began, cpu = time.perf_counter(), time.process_time()
            watcher.phase(_("storing"))
            record = partial(_record, store, report)
            for ordinal, batch, same in results.toLocalIterator() if results is not None else []:
                if stop is not None and stop.is_set():
                    report.stopped = True
                    return report
                _store_batch(batch, same, pages.get(ordinal, []), store, report, record)
            report.store_seconds = time.perf_counter() - began
            report.store_cpu = time.process_time() - cpu
            began, cpu = time.perf_counter(), time.process_time()
            watcher.phase(_("grouping and understanding"))
            try:
                # The sentence vectors and the stories' understanding, the costly part of
                # the stages after storing, run on the executors: the driver only groups
                # and writes.
                with spread_over(partial(_on_cluster, context, watcher)):
                    process(store, settings, report, stop)
            except _Cancelled:
                report.stopped = True
                return report
            report.process_seconds = time.perf_counter() - began
            report.process_cpu = time.process_time() - cpu
    finally:
        watcher.close()
        context.stop()
    return report


def _context(master: str, conf: dict[str, str]) -> Any:
    try:
        from pyspark import SparkConf, SparkContext
    except ImportError:
        raise SparkUnavailable(
            _("pyspark is not installed: pip install 'veille[spark]' (and a Java runtime)")
        ) from None
    local = master.startswith("local")
    if local:
        # Workers run the Python named here (pyspark reads it when the context starts):
        # on one machine, the driver's own, where veille is installed.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {
        "spark.app.name": "veille reprocess",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "ERROR",
        # On one machine: no web UI, and the driver listens on loopback only (a cluster's
        # driver must be reachable, and may want its UI).
        **(
            {
                "spark.ui.enabled": "false",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
            }
            if local
            else {}
        ),
        "spark.task.maxFailures": str(_TASK_TRIES),
        # The executors encode sentences with the driver's encoder, or the stories differ.
        **(
            {"spark.executorEnv.VEILLE_ENCODER": os.environ["VEILLE_ENCODER"]}
            if os.environ.get("VEILLE_ENCODER")
            else {}
        ),
        **conf,
    }
    spark_conf = SparkConf().setMaster(_with_retries(master)).setAll(list(settings.items()))
    try:
        return SparkContext(conf=spark_conf)
    except Exception as exc:  # no Java, a master that cannot be reached...
        raise SparkUnavailable(
            _("Spark could not start ({error})", error=str(exc).strip().splitlines()[0])
        ) from exc


def _with_retries(master: str) -> str:
    """local[N] gives a failed task no second try; local[N,F] does."""
    if master == "local":
        return f"local[1,{_TASK_TRIES}]"
    if master.startswith("local[") and "," not in master:
        return f"{master[:-1]},{_TASK_TRIES}]"
    return master


def is_url(value: str) -> bool:
    """A URL that Spark's filesystems read (hdfs://, s3a://, file://...), not a path."""
    scheme = urlsplit(value).scheme
    return len(scheme) > 1 and "://" in value


def _sources(inputs: list[str]) -> Iterator[Source]:
    for value in inputs:
        if is_url(value):
            name = value.rstrip("/").rsplit("/", 1)[-1] or value
            yield Source(name=name, kind="file", location=value)
        else:
            path = Path(value)
            yield Source(name=path.name or value, kind="file", location=str(path.resolve()))


def _map(
    context: Any,
    inputs: list[str],
    settings: Settings,
    split_bytes: int | None,
    store: Store,
    report: ReprocessReport,
    watcher: _Watcher,
) -> tuple[Any, dict[int, list[PageBlocks | None]]] | None:
    """The batches, final and in order, kept on the workers: (ordinal, [(outcome,
    mentions, raw digest)], documents unchanged); and the blocks of each batch extracted,
    for the store to learn. None when there are none, or when stopped (the report says
    so)."""
    from pyspark import StorageLevel

    local = [(n, Path(v)) for n, v in enumerate(inputs) if not is_url(v)]
    total = sum(_size(path) for _, path in local)
    cores = context.defaultParallelism
    target = split_bytes or max(_MIN_SPLIT, min(_MAX_SPLIT, total // (cores * _SPLITS_PER_CORE)))
    splits = work.plan(local, target)
    report.splits = len(splits)
    parts = []
    if splits:
        rdd = context.parallelize(splits, len(splits))
        parts.append(rdd.flatMap(partial(_read_local, settings)))
    for number, url in ((n, v) for n, v in enumerate(inputs) if is_url(v)):
        files = context.binaryFiles(url)
        parts.append(files.flatMap(partial(_read_remote, settings, number, url)))
    if not parts:
        return None
    items = context.union(parts).persist(StorageLevel.MEMORY_AND_DISK)
    watcher.phase(_("reading"))
    facts: list[_Fact] = []
    if not watcher.run(lambda: facts.extend(items.map(_fact).collect())):
        return None
    report.records = len(facts)
    if not facts:
        return None
    numbering = _numbering(Counter(key for key, *_rest in facts))
    documents: dict[int, list[tuple[str, str, PageBlocks | None]]] = {}
    for key, rank, ref, digest, page in sorted(facts, key=lambda f: numbering.place(f[0], f[1])):
        if digest is not None:
            ordinal = numbering.place(key, rank)[0]
            documents.setdefault(ordinal, []).append((ref, digest, page))
    memories = _plan(store, documents)
    pages = {n: [page for *_rest, page in documents[n]] for n in memories}
    ordinals, plan = context.broadcast(numbering), context.broadcast(memories)
    batches = numbering.batches
    partitions = max(1, min(batches, max(cores * 2, batches // _BATCHES_PER_PARTITION)))
    results = (
        items.map(partial(_place, ordinals))
        .repartitionAndSortWithinPartitions(
            partitions, partitionFunc=partial(_partition, partitions, batches)
        )
        .mapPartitions(partial(_finish, plan))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    watcher.phase(_("extracting, cleaning and finding entities"))
    if not watcher.run(results.count):
        return None
    items.unpersist()
    return results, pages


class _Cancelled(Exception):
    """A Spark job of the stages after storing was cancelled: the job was asked to stop."""


def _on_cluster(context: Any, watcher: _Watcher, function: Callable, items: Sequence) -> list:
    """`[function(item) for item in items]` as a Spark job, for the stages after storing.
    The items are dealt round-robin into a few slices per core: the stages hand their
    work biggest first, so each slice gets its share of the big items."""
    count = max(1, min(len(items), context.defaultParallelism * _SLICES_PER_CORE))
    slices = [list(items[k::count]) for k in range(count)]
    done: list[list] = []
    if not watcher.run(
        lambda: done.extend(
            context.parallelize(slices, count).map(partial(_apply, function)).collect()
        )
    ):
        raise _Cancelled
    return [done[i % count][i // count] for i in range(len(items))]


def _apply(function: Callable, items: list) -> list:
    return [function(item) for item in items]


class _Rollback(Exception):
    """Ends the transaction in which the plan is worked out, leaving the store as it was."""


def _plan(
    store: Store, documents: dict[int, list[tuple[str, str, PageBlocks | None]]]
) -> dict[int, dict[str, SiteTemplate]]:
    """Each batch `veille ingest` would extract (not every input in it read before
    unchanged), with its sites' template memory once its new pages are learned, found as
    `veille ingest` finds them batch after batch; the batches left out are not extracted
    again. Worked out in a transaction rolled back: the store learns a batch's pages only
    when that batch is stored, so a driver killed mid-job resumes with the memory
    `veille ingest` would have."""
    memories: dict[int, dict[str, SiteTemplate]] = {}
    try:
        with store.transaction():
            for ordinal in sorted(documents):
                batch = documents[ordinal]
                if not unchanged({ref: digest for ref, digest, _page in batch}, store):
                    memories[ordinal] = learn_templates([page for *_, page in batch], store)
            raise _Rollback
    except _Rollback:
        pass
    return memories


def _size(path: Path) -> int:
    try:
        return sum(f.stat().st_size for f in files_under(path)) if path.exists() else 0
    except OSError:
        return 0


# An item read: its source, the item, and (for a document) its raw digest and blocks.
_Read = tuple[str, RawDocument | Failure | Skip, str | None, PageBlocks | None]
# What the driver learns of an item: its range, its rank there, its ref, digest and blocks.
_Fact = tuple[work.RangeKey, int, str, str | None, PageBlocks | None]


def _read_local(settings: Settings, split: work.Split) -> Iterator[tuple[Any, _Read]]:
    for rank, item in enumerate(work.read_split(split, settings)):
        yield (split.key, rank), (split.source, item, *work.examine(item))


def _read_remote(
    settings: Settings, number: int, url: str, file: tuple[str, bytes]
) -> Iterator[tuple[Any, _Read]]:
    path, data = file
    for rank, item in enumerate(work.read_remote(url, path, data, settings)):
        yield ((number, 0, path, 0), rank), (url, item, *work.examine(item))


def _fact(entry: tuple[tuple[work.RangeKey, int], _Read]) -> _Fact:
    (key, rank), (_source, item, digest, page) = entry
    return key, rank, item.ref, digest, page


@dataclass(frozen=True)
class _Numbering:
    """Where each range's items fall in its input's sequence, and the batches' ordinals
    across all inputs."""

    first: dict[work.RangeKey, int]  # a range's first item's place in its input
    base: dict[int, int]  # an input's first batch's ordinal
    batches: int

    def place(self, key: work.RangeKey, rank: int) -> tuple[int, int]:
        """An item's batch ordinal and its place in its input."""
        place = self.first[key] + rank
        return self.base[key[0]] + place // BATCH_SIZE, place


def _numbering(counts: Counter) -> _Numbering:
    first: dict[work.RangeKey, int] = {}
    per_input: Counter = Counter()
    for key in sorted(counts):
        first[key] = per_input[key[0]]
        per_input[key[0]] += counts[key]
    base, batches = {}, 0
    for number in sorted(per_input):
        base[number] = batches
        batches += -(-per_input[number] // BATCH_SIZE)
    return _Numbering(first, base, batches)


def _place(ordinals: Any, item: tuple[tuple[work.RangeKey, int], _Read]) -> Any:
    (key, rank), read = item
    numbering: _Numbering = ordinals.value
    return numbering.place(key, rank), read


def _partition(partitions: int, batches: int, key: tuple[int, int]) -> int:
    # Consecutive batches share a partition, in order: the driver reads them in order.
    return key[0] * partitions // batches


def _finish(plan: Any, items: Iterable[tuple[tuple[int, int], _Read]]) -> Iterator[Any]:
    """Each batch made final: (ordinal, [(outcome, mentions, raw digest)], documents left
    unchanged). A batch out of the plan is not extracted again: its read problems only."""
    memories: dict[int, dict[str, SiteTemplate]] = plan.value
    for ordinal, batch in groupby(items, key=lambda item: item[0][0]):
        reads = [read for _key, read in batch]
        memory = memories.get(ordinal)
        if memory is None:
            problems = [
                (item, None, None, None) for _s, item, digest, _p in reads if digest is None
            ]
            yield ordinal, problems, len(reads) - len(problems)
            continue
        outcomes = [work.extract_item(i, source, page, memory) for source, i, _d, page in reads]
        finished = work.finish_batch(outcomes)
        yield (
            ordinal,
            [(o, m, v, d) for (o, m, v), (_s, _i, d, _p) in zip(finished, reads, strict=True)],
            0,
        )


def _record(store: Store, report: IngestReport, problem: Failure | Skip) -> None:
    store.log(problem)
    (report.failed if isinstance(problem, Failure) else report.skipped).append(problem)


def _store_batch(
    batch: list[tuple[work.Outcome, list[Mention] | None, work.Vector | None, str | None]],
    same: int,
    pages: list[PageBlocks | None],
    store: Store,
    report: ReprocessReport,
    record: Callable[[Failure | Skip], None],
) -> None:
    """One batch stored as `veille ingest` stores it: the read problems recorded; then,
    when its inputs were all read before unchanged (`same` of them), only counted; else
    its new pages learned into the template memory, each document counted and its
    extraction failure recorded, the articles saved, each with its raw digest, its
    mentions and its sentence vector."""
    documents = []
    for outcome, mentions, vector, digest in batch:
        if digest is None:
            record(outcome)
        else:
            documents.append((outcome, mentions, vector, digest))
    if same:
        report.read += same
        report.unchanged += same
        return
    learn_templates(pages, store)
    found: dict[str, tuple[list[Mention] | None, work.Vector | None]] = {}
    for outcome, mentions, vector, _digest in documents:
        report.read += 1
        if isinstance(outcome, Failure):
            record(outcome)
        elif isinstance(outcome, Article):
            found[outcome.raw_ref] = (mentions, vector)
    save_extracted(
        [(a.source, a.raw_ref, d, None, a) for a, *_f, d in documents if isinstance(a, Article)],
        store,
        report,
        record,
        on_saved=partial(_keep_found, store, found),
    )


def _keep_found(
    store: Store,
    found: dict[str, tuple[list[Mention] | None, work.Vector | None]],
    article_id: int,
    outcome: Outcome,
    article: Article,
) -> None:
    """Keep what the workers found for `article`: its sentence vector with its place in
    the grouping queue (under the key of its text: the grouping uses it only for the text
    it stores), and its mentions if the store holds that text as read (an update may keep
    the stored language, say): the stages after storing then read them instead of running
    the models."""
    mentions, vector = found.get(article.raw_ref, (None, None))
    if outcome == "kept":
        return
    if vector is not None:
        store.keep_vectors([(article_id, *vector)])
    if mentions is None:
        return
    if outcome != "new":
        stored = store.articles_by_id([article_id])[0]
        if (stored.title, stored.text, stored.language) != (
            article.title,
            article.text,
            article.language,
        ):
            return
    key = text_key(entity_text(article.title, article.text))
    kept = store.mentions([article_id]).get(article_id)
    if kept is None or kept[0] != key:
        store.save_mentions([(article_id, key, mentions, None)])


class _Watcher:
    """Reports the job's progress every few seconds, counts the tasks Spark ran again,
    and cancels the job when asked to stop."""

    def __init__(
        self,
        context: Any,
        report: ReprocessReport,
        on_progress: Callable[[str], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.context, self.report, self.on_progress, self.stop = context, report, on_progress, stop
        self.label = ""
        self.failed: dict[int, int] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def phase(self, label: str) -> None:
        self.label = label
        if self.on_progress:
            self.on_progress(label)

    def run(self, action: Callable[[], Any]) -> bool:
        """Run a Spark action; False if it was cancelled by a stop."""
        try:
            action()
        except Exception:
            if self.stop is not None and self.stop.is_set():
                self.report.stopped = True
                return False
            raise
        finally:
            self._poll()
        return True

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.report.tasks_failed = sum(self.failed.values())

    def _loop(self) -> None:
        said = ""
        while not self.done.wait(2.0):
            if self.stop is not None and self.stop.is_set():
                self.context.cancelAllJobs()
            line = self._poll()
            if line and line != said and self.on_progress:
                self.on_progress(line)
                said = line

    def _poll(self) -> str:
        tracker = self.context.statusTracker()
        done = total = 0
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is None:
                continue
            done += info.numCompletedTasks
            total += info.numTasks
        # Failed tasks of every stage run so far, ended ones included: a short job (the
        # stages after storing run many) may start and end between two looks.
        for job_id in tracker.getJobIdsForGroup():
            job = tracker.getJobInfo(job_id)
            for stage_id in job.stageIds if job is not None else ():
                info = tracker.getStageInfo(stage_id)
                if info is not None:
                    self.failed[stage_id] = max(self.failed.get(stage_id, 0), info.numFailedTasks)
        if not total:
            return ""
        return _("{phase}: {done}/{total} tasks", phase=self.label, done=done, total=total)


def environment_ready() -> str | None:
    """Why Spark cannot run here (None when it can): pyspark and a Java runtime."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return _("pyspark is not installed: pip install 'veille[spark]' (and a Java runtime)")
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home, "bin", "java") if java_home else None
    if (java is None or not java.exists()) and not _on_path("java"):
        return _("no Java runtime found (install OpenJDK 17 or set JAVA_HOME)")
    return None


def _on_path(name: str) -> bool:
    return any(Path(d, name).exists() for d in os.environ.get("PATH", "").split(os.pathsep) if d)
