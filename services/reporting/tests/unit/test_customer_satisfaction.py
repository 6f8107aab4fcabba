"""Customer satisfaction: a rating in a job's facts and measures, and the KPI over ratings.

A VisitRated is folded into the job's facts and measures; the KPI is over the ratings of
the jobs completed in a period (docs/kpis.md).
"""

from datetime import UTC, datetime, timedelta

from jobstream.contracts.intake import VisitRated
from jobstream.messaging.envelope import Envelope
from jobstream.reporting.dashboard import satisfaction_tile
from jobstream.reporting.domain import kpis
from jobstream.reporting.domain.kpis.measures import measure
from jobstream.reporting.projections import fold_job, log_values
from jobstream.testing.builders import JobStory, business_time

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)


def rating(story, at, score, technician_id=None, comment=""):
    return VisitRated(
        work_order_id=story.work_order_id,
        customer_id=story.customer_id,
        technician_id=technician_id,
        score=score,
        comment=comment,
        rated_by="portal-user",
        rated_at=at,
    )


def rows(events):
    out = []
    for n, event in enumerate(events, start=1):
        time = event.rated_at if isinstance(event, VisitRated) else business_time(event)
        out.append(log_values(Envelope.new(event, source="jobstream/test", sequence=n, time=time)))
    return out


def completed_job(n, *, technician="tech-a", done=T0 + timedelta(hours=2), **kw):
    story = JobStory(work_order_id=f"wo-{n}", technician_id=technician, start=T0, **kw)
    return story, [story.request_logged(), story.released(), story.completed_at(done)]


def fold(story, events):
    return fold_job(story.work_order_id, rows(events))


def week(evaluated=T0 + 30 * DAY):
    start = datetime(2026, 11, 2, tzinfo=UTC)
    return kpis.Period(start.timestamp(), (start + 7 * DAY).timestamp(), evaluated.timestamp())


# ---------------------------------------------------------------------------------------
# the fold


def test_a_rating_is_kept_in_the_jobs_facts():
    story, events = completed_job(1)
    rated_at = T0 + DAY
    job = fold(story, [*events, rating(story, rated_at, 4, "tech-a", "Friendly")])
    assert job["rating"] == {
        "score": 4,
        "comment": "Friendly",
        "rated_by": "portal-user",
        "rated_at": rated_at.timestamp(),
        "technician_id": "tech-a",
    }


def test_an_unrated_job_has_no_rating():
    story, events = completed_job(1)
    assert fold(story, events)["rating"] is None


def test_the_first_rating_stands_if_another_arrives():
    story, events = completed_job(1)
    first = rating(story, T0 + DAY, 5)
    job = fold(story, [*events, first, rating(story, T0 + 2 * DAY, 1)])
    assert job["rating"]["score"] == 5


def test_the_fold_does_not_depend_on_the_order_events_arrive_in():
    story, events = completed_job(1)
    ordered = rows([*events, rating(story, T0 + DAY, 3)])
    assert fold_job(story.work_order_id, ordered[::-1]) == fold_job(story.work_order_id, ordered)


def test_a_rating_does_not_change_the_jobs_status():
    story, events = completed_job(1)
    job = fold(story, [*events, rating(story, T0 + DAY, 3)])
    assert job["status"] == "completed"


def test_the_measures_carry_the_score_and_whom_it_counts_for():
    story, events = completed_job(1, technician="tech-a")
    rated_at = T0 + DAY
    measures = measure(fold(story, [*events, rating(story, rated_at, 2, "tech-b")])).measures
    assert (measures["rating_score"], measures["rated_at"], measures["rating_by_technician"]) == (
        2,
        rated_at.timestamp(),
        "tech-b",
    )


def test_a_rating_naming_no_technician_counts_for_the_one_who_completed_the_job():
    story, events = completed_job(1, technician="tech-a")
    measures = measure(fold(story, [*events, rating(story, T0 + DAY, 2)])).measures
    assert measures["rating_by_technician"] == "tech-a"


def test_an_unrated_job_measures_no_rating():
    story, events = completed_job(1)
    measures = measure(fold(story, events)).measures
    assert (measures["rating_score"], measures["rated_at"], measures["rating_by_technician"]) == (
        None,
        None,
        None,
    )


# ---------------------------------------------------------------------------------------
# the KPI


def satisfaction(jobs, period=None, group_by=kpis.GroupBy.NONE):
    return kpis.customer_satisfaction(jobs, period or week(), group_by)


def rated_job(n, score, *, technician="tech-a", named=None, done=T0 + timedelta(hours=2), **kw):
    story, events = completed_job(n, technician=technician, done=done, **kw)
    return fold(story, [*events, rating(story, done + timedelta(hours=3), score, named)])


def test_the_mean_score_is_to_two_decimals_and_satisfied_means_four_or_five():
    jobs = [rated_job(1, 5), rated_job(2, 4), rated_job(3, 2)]
    assert satisfaction(jobs) == {
        "all": {"ratings": 3, "mean_score": 3.67, "satisfied": 2, "rate": 2 / 3}
    }


def test_a_job_without_a_rating_is_not_counted():
    story, events = completed_job(2)
    assert satisfaction([rated_job(1, 5), fold(story, events)]) == {
        "all": {"ratings": 1, "mean_score": 5.0, "satisfied": 1, "rate": 1.0}
    }


def test_no_ratings_give_no_groups_rather_than_a_zero():
    story, events = completed_job(1)
    assert satisfaction([fold(story, events)]) == {}


def test_a_rating_counts_in_the_period_the_job_was_completed_in():
    # Completed on the week's last evening, rated the week after.
    sunday_evening = datetime(2026, 11, 8, 20, 0, tzinfo=UTC)
    story, events = completed_job(1, done=sunday_evening)
    job = fold(story, [*events, rating(story, sunday_evening + 2 * DAY, 5)])
    assert satisfaction([job])["all"]["ratings"] == 1
    next_week = kpis.Period(
        datetime(2026, 11, 9, tzinfo=UTC).timestamp(),
        datetime(2026, 11, 16, tzinfo=UTC).timestamp(),
        (T0 + 30 * DAY).timestamp(),
    )
    assert satisfaction([job], next_week) == {}


def test_a_rating_not_made_yet_at_the_evaluation_instant_is_not_counted():
    job = rated_job(1, 5)  # completed at 10:00, rated at 13:00
    assert satisfaction([job], week(evaluated=T0 + timedelta(hours=4))) == {}
    assert satisfaction([job], week(evaluated=T0 + timedelta(hours=5)))["all"]["ratings"] == 1


def test_a_rated_job_not_known_to_be_completed_is_not_counted():
    story = JobStory(work_order_id="wo-1", start=T0)
    job = fold(story, [story.request_logged(), rating(story, T0 + DAY, 5)])
    assert satisfaction([job]) == {}


def test_by_technician_the_rating_names_whom_it_counts_for():
    jobs = [
        rated_job(1, 5, technician="tech-a"),
        rated_job(2, 1, technician="tech-a", named="tech-b"),
        rated_job(3, 3, technician="tech-b"),
    ]
    assert satisfaction(jobs, group_by=kpis.GroupBy.TECHNICIAN) == {
        "tech-a": {"ratings": 1, "mean_score": 5.0, "satisfied": 1, "rate": 1.0},
        "tech-b": {"ratings": 2, "mean_score": 2.0, "satisfied": 0, "rate": 0.0},
    }


def test_by_customer_and_job_type_as_the_other_kpis():
    jobs = [
        rated_job(1, 5, customer_id="c1", job_type="leak_repair"),
        rated_job(2, 4, customer_id="c2", job_type="leak_repair"),
        rated_job(3, 1, customer_id="c2", job_type="boiler_service"),
    ]
    assert satisfaction(jobs, group_by=kpis.GroupBy.CUSTOMER) == {
        "c1": {"ratings": 1, "mean_score": 5.0, "satisfied": 1, "rate": 1.0},
        "c2": {"ratings": 2, "mean_score": 2.5, "satisfied": 1, "rate": 0.5},
    }
    assert satisfaction(jobs, group_by=kpis.GroupBy.JOB_TYPE) == {
        "leak_repair": {"ratings": 2, "mean_score": 4.5, "satisfied": 2, "rate": 1.0},
        "boiler_service": {"ratings": 1, "mean_score": 1.0, "satisfied": 0, "rate": 0.0},
    }


def test_every_kpi_includes_customer_satisfaction():
    result = kpis.compute([rated_job(1, 4)], {}, week())
    assert result["customer_satisfaction"] == {
        "all": {"ratings": 1, "mean_score": 4.0, "satisfied": 1, "rate": 1.0}
    }


# ---------------------------------------------------------------------------------------
# the dashboard tile


def test_the_tile_shows_how_many_ratings_the_mean_stands_on():
    one = {"ratings": 1, "mean_score": 5.0, "satisfied": 1, "rate": 1.0}
    assert satisfaction_tile(one) == ("5.00 / 5", "1 rating · 100 % satisfied")
    many = {"ratings": 12, "mean_score": 4.25, "satisfied": 10, "rate": 10 / 12}
    assert satisfaction_tile(many) == ("4.25 / 5", "12 ratings · 83 % satisfied")
    assert satisfaction_tile(None) == ("—", "no ratings")
