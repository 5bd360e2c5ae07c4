"""Demo reconstructions and member checks for the seven demo cases.

The narratives are written for this demo from the case facts (programme, outcome, determinants);
names are the invented ones of ``casestudy.demo``; organisation names never appear in a narrative
(respondents read it, and organisations are internal). Each case gets two or three
versions; six cases end agreed, Case G still waits for its principal therapist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from casestudy import access
from casestudy import study as studies
from casestudy.models import Study
from casestudy.reconstruction import membercheck as reconstruction_membercheck
from casestudy.reconstruction import narrative as reconstruction_narrative
from casestudy.reconstruction import summary as reconstruction_summary


@dataclass(frozen=True)
class Revision:
    """One member-check round that ended with requested changes, and the next version."""

    comments: tuple[tuple[str, str, str], ...]  # (role, words in the paragraph commented on, comment)
    edits: tuple[tuple[str, str], ...]  # (old text, new text) applied to the previous version
    note: str
    how: str
    general: tuple[tuple[str, str], ...] = ()  # (role, general comment)
    offline: tuple[str, ...] = ()  # roles that answered on paper


@dataclass(frozen=True)
class DemoNarrative:
    public: str
    text: str
    summary: str
    determinants: tuple[tuple[str, str, str], ...]  # (label, polarity, path in the default MBT codebook)
    revisions: tuple[Revision, ...] = ()
    waiting_for: str = ""  # role that has not answered the last round yet
    component_outcomes: tuple[tuple[str, str], ...] = field(default=())


NARRATIVES = (
    DemoNarrative(
        "Case A",
        """# How the MBT day programme began and ended

The idea of a mentalization-based day programme came from a small group of psychologists in the cure division of the institution. The nursing staff who would run the groups worked in the care division, which had its own manager, its own budget and its own ideas about what patients with a borderline personality disorder need. From the first planning meeting the programme therefore sat on the border between two parts of the organisation that rarely worked together.

Marleen Verhoef, the manager who became formally responsible, describes a start with goodwill but without a sponsor higher up. The board approved the plan but did not follow it. When the two partial hospitalisation groups were full after some months, the costs turned out higher than planned and nobody above the unit felt obliged to defend them.

Inside the unit the tone hardened quickly. Thijs Brandsma, the principal therapist, remembers long and upsetting team meetings in which the question of who was in charge returned every week. The psychologists saw themselves as guardians of the model, the senior nurses as the people who carried the daily work. Tasks were not divided clearly: everybody did a bit of everything, so nobody felt fully responsible and everybody felt criticised.

The nurses in particular said they felt incompetent. They had followed the basic training, but the group sessions with very unstable patients asked more of them than the course had prepared them for. Supervision was irregular, and several nurses asked to be moved back to their old ward.

Between management and team the distance grew. Decisions about staffing and waiting lists were taken without the therapists, and the therapists in turn stopped reporting problems upward. Sick leave went up and in the second year almost half of the team left.

Looking back, the manager thinks the programme was started with too much confidence in the model itself and too little attention to the people who had to carry it. The psychologists had visited a well-known MBT centre and returned convinced that the method would sell itself. Nobody drew up a plan for what the nurses needed, how the two divisions would share costs, or who would settle disagreements. The principal therapist adds that the team never had a moment to agree on its own way of working before the first patients arrived.

Patients noticed the unrest. Some of them played team members off against each other, which MBT warns about, and each incident fed the discussion about who was to blame. A plan to bring in an external supervisor for the whole team was discussed twice but never carried out, because the divisions could not agree on who would pay for it.

In the end the programme was stopped. Both respondents agree that the costs and the burden on staff made continuing impossible, and both point to the lack of support in the organisation and the fights within the team as the main reasons it never became stable.
""",
        "A day programme that was caught between the care and cure divisions, lacked support above the unit, and broke down under conflicts about leadership, unclear roles and high staff turnover; it was stopped.",
        (("Organisational split between care and cure", "barrier", "Organization/Organisational commitment and support/Embedding within the institution"),
         ("Lack of support within the organisation", "barrier", "Organization/Organisational commitment and support"),
         ("Open conflict about leadership in the unit", "barrier", "Organization and team/Roles and leadership/Leadership"),
         ("No role differentiation", "barrier", "Organization and team/Roles and leadership/Role clarity"),
         ("Nurses felt incompetent", "barrier", "Therapist/Therapist competence and experience"),
         ("Split between management and team", "barrier", "Organization/Department management/Relations between management and team")),
        (
            Revision(
                comments=(("manager", "The board approved the plan", "The board did approve extra money for training in the first year; it was the running costs nobody defended."),
                          ("therapist", "almost half of the team left", "It was not almost half of the team: four of the eleven people left, which felt like half.")),
                edits=(("The board approved the plan but did not follow it.",
                        "The board approved the plan and paid for the first training year, but did not follow the programme after that."),
                       ("in the second year almost half of the team left", "in the second year four of the eleven team members left")),
                note="Training budget and staff numbers corrected after round 1",
                how="Rewrote the sentence with the respondent's correction",
            ),
        ),
        component_outcomes=(("PH", "negative"),),
    ),
    DemoNarrative(
        "Case B",
        """# A lighter day programme that grew step by step

In this institution the plan for MBT was discussed widely before anything started. Ans Kuipers, the manager, made sure that the medical director, the heads of the outpatient teams and the staff psychiatrists all had a say. Because the experts of the whole organisation had been involved, the programme was seen as a shared project and not as the hobby of one department.

The team chose a lower dose of partial hospitalisation than the model describes: three days a week in one group, next to one intensive outpatient group. According to Ruben de Wit, the principal therapist, this was a deliberate choice. The team wanted to learn the method with patients it could handle and to build up from there.

Leadership was active and visible. The manager joined the monthly evaluation, asked for figures on drop-out and waiting times, and stepped in when a conflict about the rota threatened to drag on. The therapist felt free to discuss doubts about the model with her without it becoming a question of loyalty.

The team itself is described as strong. Its members had different temperaments, a calm psychiatrist, an outspoken creative therapist, two nurses with long ward experience, and they valued those differences instead of fighting over them. There was enough money for the full training and for supervision, so nobody had to improvise.

Over the years the programme moved closer to the model. Adherence improved, and the team dared to admit patients with more severe problems than in the first year. Drop-out stayed low and the burden on the team remained acceptable, even with the heavier caseload.

Money was not the only resource that mattered. The institution gave the team time: time for weekly intervision, for a yearly study day and for visits to other MBT programmes. The manager protected that time when the waiting list grew, even though filling the groups faster would have looked better on paper. The principal therapist believes that this is why nobody in the team burned out during the first two years.

Problems did occur. In the second year two experienced nurses retired within a few months, and for a while the outpatient group ran with a temporary co-therapist. The team handled this by slowing down the intake rather than lowering its standards, a decision both respondents still defend.

Both respondents call the implementation a success, and both warn that it depended on people: the support of the organisation and the quality of the team made the slow, careful route possible.
""",
        "A carefully prepared programme with lower-dose partial hospitalisation and an outpatient group, broad institutional support, active leadership, a strong team and enough training money; it gradually took on more severe patients with low drop-out.",
        (("Clear institutional support, all experts involved", "facilitator", "Organization/Organisational commitment and support"),
         ("Active leadership", "facilitator", "Organization and team/Roles and leadership/Leadership"),
         ("Strong team with complementary personalities", "facilitator", "Organization and team/Balanced mentalizing team/Team composition"),
         ("Sufficient budget for training", "facilitator", "Organization/Organisational commitment and support/Financial support and budget"),
         ("Gradual development towards adherence and more severe patients", "facilitator", "Organization/Programme structure and phasing")),
        (
            Revision(
                comments=(("therapist", "different temperaments", "Please do not describe my colleagues' temperaments; they may recognise themselves. Say that the team was varied."),),
                edits=(("Its members had different temperaments, a calm psychiatrist, an outspoken creative therapist, two nurses with long ward experience, and they valued those differences instead of fighting over them.",
                        "Its members differed in background and temperament, and they valued those differences instead of fighting over them."),),
                note="Descriptions of individual team members removed at the therapist's request",
                how="Removed the personal descriptions, kept the point about a varied team",
                general=(("manager", "Recognisable and fair. I agree apart from what Ruben may add."),),
            ),
            Revision(
                comments=(("manager", "deliberate choice", "Add that the three-day dose was agreed with the national MBT trainers."),),
                edits=(("this was a deliberate choice.", "this was a deliberate choice, discussed beforehand with the MBT trainers."),),
                note="Added that the lower dose was agreed with the trainers",
                how="Added half a sentence to paragraph 2",
            ),
        ),
        component_outcomes=(("PH", "positive"), ("IOP", "positive")),
    ),
    DemoNarrative(
        "Case C",
        """# A day programme decided from above

The decision to start an MBT day programme in this foundation was taken by the board and the division management. Gerard Smulders, then manager of the unit, received the assignment together with a budget and a starting date. The existing team heard about it when the plan was already fixed.

That team was not eager. Before the programme started there had already been years of friction between the psychiatric nurses and the psychotherapists, and a reorganisation was in the air. Femke van der Laan, the principal therapist, says that part of the team saw MBT as one more thing imposed from above.

Training did not reach everyone equally. Some team members followed the full course and were enthusiastic; others had only an introduction or joined later. Within the two partial hospitalisation groups, and between them, people worked with different levels of knowledge and motivation.

Soon the unit spoke of a team on the model and a team off the model. The first group tried to work by the manual; the second kept to familiar routines. The line ran partly along the disciplines, so that disagreements about treatment also became disagreements between professions.

Halfway through the second year a reorganisation moved the two managers who had supported the programme to other positions. Their successors had no particular bond with MBT. The relation between management and team turned hostile: the team felt abandoned, and management saw a team that did not deliver.

The principal therapist tried to bridge the gap. She organised joint case discussions and asked the trainers for an extra day of training for the staff who had missed the course. A few colleagues came along, but the divide remained. She describes the atmosphere in the second year as tired and suspicious: every proposal was read as a move in the conflict rather than as an attempt to improve the care.

Patients were caught in the middle. Depending on who was on duty they met a different approach, and several of them complained that the rules changed from day to day. The manager says that he saw this happening but no longer had the backing to intervene firmly, because his own position was uncertain during the reorganisation.

The price was high. Sick leave rose, experienced staff left, and the programme ran at a growing financial loss. It was stopped. Both respondents conclude that a programme introduced from the top, in a team that was already divided, had little chance.
""",
        "A programme imposed from above on a divided team; uneven training, a split between staff on and off the model, and a reorganisation that removed its sponsors led to sick leave, turnover, financial loss and closure.",
        (("Top-down implementation", "barrier", "Organization/Implementation approach/Top-down implementation"),
         ("Lack of support in the existing team", "barrier", "Organization/Implementation approach/New team or existing team"),
         ("High level of conflict before the start", "barrier", "Organization and team/Balanced mentalizing team/Team conflict and splits"),
         ("Uneven training and motivation", "barrier", "Organization and team/Staff recruitment and selection/Training and supervision"),
         ("Split between team on and off the model", "barrier", "Team/Coherent MBT framework"),
         ("Team split between disciplines", "barrier", "Organization and team/Balanced mentalizing team/Team conflict and splits"),
         ("Reorganisation changed managerial support", "barrier", "Organization/Department management/Continuity of management"),
         ("Hostility between management and team", "barrier", "Organization/Department management/Relations between management and team")),
        (
            Revision(
                comments=(("manager", "received the assignment", "The board took the decision, but I did ask for the programme myself. Please say so."),
                          ("therapist", "the team felt abandoned", "The team did not only feel abandoned; we were also angry. I think that should be in it.")),
                edits=(("received the assignment together with a budget and a starting date.",
                        "had asked for the programme himself and received it as an assignment, with a budget and a starting date."),
                       ("the team felt abandoned, and", "the team felt abandoned and angry, and")),
                note="Manager's own role and the team's anger added",
                how="Both points taken over in the wording",
                offline=("manager",),
            ),
        ),
        component_outcomes=(("PH", "negative"),),
    ),
    DemoNarrative(
        "Case D",
        """# A programme chosen by a few

In this psychiatric centre the choice for MBT was made by a small circle: the medical manager, one psychiatrist and an external adviser. Hans Oudshoorn, who became the responsible manager, admits that the wider staff was informed rather than consulted. The programme started with two partial hospitalisation groups.

The team was put together quickly. Several members were placed in the programme because their previous ward was closing, not because they had asked for it or had experience with this group of patients. Lieke Jansma, the principal therapist, recalls that interest and competence varied widely from the first week.

Within the institution the team soon stood apart. Other departments knew little of the programme, referred few patients and sometimes spoke about it with suspicion. The day programme had its own building at the edge of the grounds, which made the isolation visible.

Too few patients came in. The intake criteria had been copied from the manual without asking whether the region had enough patients who met them, and the referrers who did send patients were seldom told what happened next. The groups were rarely full, which put pressure on the budget and on the therapists, who felt they had to prove their worth. Patients who did come sometimes left disappointed, because the groups were small and the staff changed often.

The principal therapist did her best to hold the group together. She organised extra supervision with an external MBT trainer and tried to give the less experienced colleagues a clear place in the programme. Those efforts helped for a while, but every time someone left, the work of building a shared way of working had to start again. The manager acknowledges that he underestimated how much a new team needs a stable core of people who chose to be there.

Attempts to raise the number of referrals came late. Information meetings for other departments were held only in the second year, when the programme already had a reputation for being half empty.

Between management and team the relation deteriorated. The team blamed management for the lack of referrals and for the staffing; management pointed at the team's results. Within the team, too, a split appeared between those who wanted to persist and those who were looking for a way out.

At the time of the interviews the programme had been stopped. Both respondents mention the high turnover of staff, the dissatisfaction of patients and the financial loss, and both trace them back to how the programme was chosen and staffed.
""",
        "A programme chosen by a small group and staffed by placement rather than motivation; isolated in the institution, short of referrals and split internally, it was stopped with high turnover, unhappy patients and financial loss.",
        (("Programme chosen by a select group, top-down", "barrier", "Organization/Implementation approach/Top-down implementation"),
         ("Split between management and team", "barrier", "Organization/Department management/Relations between management and team"),
         ("Team isolated within the institution", "barrier", "Organization/Organisational commitment and support/Embedding within the institution"),
         ("Insufficient patient inclusion", "barrier", "Organization/Referral and intake"),
         ("Recruitment not based on competence and motivation", "barrier", "Organization and team/Staff recruitment and selection"),
         ("Split within the team", "barrier", "Organization and team/Balanced mentalizing team/Team conflict and splits")),
        (
            Revision(
                comments=(("therapist", "edge of the grounds", "The building was not at the edge of the grounds but in the old nurses' home; the point is the same."),),
                edits=(("had its own building at the edge of the grounds", "was housed in a separate building away from the other wards"),),
                note="Location described more generally",
                how="Replaced the location with a neutral description",
                general=(("manager", "Correct as far as I am concerned."),),
            ),
            Revision(
                comments=(("manager", "At the time of the interviews", "Please add that we tried a rescue plan for half a year before stopping."),),
                edits=(("At the time of the interviews the programme had been stopped.",
                        "At the time of the interviews the programme had been stopped, after a rescue plan of about six months had not turned the tide."),),
                note="Rescue plan before closure added",
                how="Added to the last paragraph",
                offline=("manager",),
            ),
        ),
        component_outcomes=(("PH", "negative"),),
    ),
    DemoNarrative(
        "Case E",
        """# A day programme that survives and an outpatient group that never started

The institution presents itself as a place for patients other services find hard to help. When Petra Wolters, the manager, proposed MBT, the board saw it as a natural fit with that mission, and support across the organisation was broad from the start.

Two partial hospitalisation groups opened first; an intensive outpatient group was planned for the following year. The programme also took part in a randomised trial. Sander Mulder, the principal therapist, says that the trial gave the team a reason to keep going in difficult months: there was an outside commitment and a research team asking for data.

The first line of management was directly involved. The manager knew the patients by name, attended team days and negotiated with the finance department herself. Together with the principal therapist she formed a strong pair: one handled the organisation, the other the content, and they consulted each other daily.

Patients were positive about the programme. The manager mentions evaluations in which they valued the predictability of the groups and the way staff took their crises seriously without taking over.

The weak spot was the embedding in the rest of the institution. The programme was known and liked, but referral routes from other departments were never arranged. Intake staff elsewhere did not think of MBT, and the groups depended on a few enthusiastic colleagues for their patients.

The day groups are still running, but they do not cover their costs and each year the budget has to be defended again. The outpatient group never opened: there were not enough referrals to fill it.

The team itself is stable. Most of the staff who started are still there, and the training was completed by everyone. Supervision is organised with a neighbouring institution, which also offers a way to compare results. The principal therapist values the atmosphere in the team and thinks it is one of the reasons the programme survived its lean years.

Finance remains a recurring topic in every conversation with the board. The manager has tried to have the programme recognised as a specialist function for the whole region, which would bring in patients from outside the institution, but by the time of the interviews no decision had been taken.

Both respondents call the result mixed. What was built is good and has support, but without a steady flow of patients the programme remains vulnerable.
""",
        "Broad support, a fit with the mission, a research trial and strong co-leadership kept the day programme running, but weak referral routes left it loss-making and the outpatient group never started.",
        (("Broad support, MBT fits the institution's mission", "facilitator", "Organization/Organisational commitment and support/Fit with the institution's mission"),
         ("Randomised trial gave a reason to continue", "facilitator", "Organization/Implementation approach/External incentives"),
         ("Direct involvement of first-line management", "facilitator", "Organization/Department management"),
         ("Insufficient embedding, too few referrals", "barrier", "Organization/Referral and intake"),
         ("Strong co-leadership", "facilitator", "Organization and team/Roles and leadership/Leadership")),
        (
            Revision(
                comments=(("manager", "consulted each other daily", "'Consulted each other daily' is too strong; it was several times a week."),
                          ("therapist", "The outpatient group never opened", "Add that the team itself also tried to set up referral routes, without success.")),
                edits=(("and they consulted each other daily.", "and they consulted each other several times a week."),
                       ("The outpatient group never opened: there were not enough referrals to fill it.",
                        "The outpatient group never opened: there were not enough referrals to fill it, although the team itself visited other departments to explain the programme.")),
                note="Frequency of consultation and the team's own referral efforts",
                how="Wording adjusted as suggested",
            ),
        ),
        component_outcomes=(("PH", "mixed"), ("IOP", "negative")),
    ),
    DemoNarrative(
        "Case F",
        """# A second MBT unit that grew quickly

This unit belongs to an institution that runs a second MBT programme elsewhere, but it started separately, in another town. From the beginning the board and the regional director stood behind it, and Karin Bosman, the manager, says that this support never faded, also when the first year brought setbacks.

The start was not without trouble. In the first months two patients were admitted to hospital after serious self-harm, and a local newspaper asked questions. The board did not step back; the regional director visited the unit and repeated publicly that the programme had its support.

The institution had set itself the aim of reaching patients who had been turned away elsewhere: young adults with many admissions, self-harm and broken treatment histories. MBT was chosen because it promised to work with exactly that group. For the board, the unit was a way to make that promise real.

Not everyone in the wider organisation was enthusiastic. Some colleagues in neighbouring teams doubted whether such patients belonged in a day programme. Because the unit had its own floor in a separate building, those doubts hardly reached the daily work.

Leadership was firm and consistent. The manager and Daan Hendriks, the principal therapist, agreed early on what the programme would and would not do, and they held to it when pressure came to admit patients who did not fit or to shorten the treatment.

The team was small and close. Its members had been selected on their abilities and their motivation to work with this group, not on availability. New colleagues were chosen by the team itself after a day of joining the groups.

The team also kept a close eye on its own functioning. Every week part of the team meeting was reserved for how the staff were doing, and tensions were put on the table early. The principal therapist says that this made it possible to keep a mentalizing attitude towards each other, even in periods with many crises among patients.

Training was completed before the first patients arrived, and supervision by an experienced MBT trainer continued throughout the first two years. When the unit grew, the new colleagues followed the same course before starting in the groups.

The unit expanded quickly to two partial hospitalisation groups. The aim of treating difficult patients was met, incidents and drop-out stayed rare, and the outcome measurements were good. Both respondents describe it as a success.
""",
        "Lasting support from the top, a clear mission to reach difficult patients, firm leadership and a small team selected on motivation produced quick growth, few incidents and drop-outs and good outcomes.",
        (("Strong support from higher management throughout", "facilitator", "Organization/Organisational commitment and support"),
         ("MBT fulfilled the mission to include difficult patients", "facilitator", "Organization/Organisational commitment and support/Fit with the institution's mission"),
         ("Partial lack of support, buffered by physical isolation", "barrier", "Organization/Organisational commitment and support/Embedding within the institution"),
         ("Strong leadership", "facilitator", "Organization and team/Roles and leadership/Leadership"),
         ("Small and cohesive team", "facilitator", "Organization and team/Balanced mentalizing team/Team size"),
         ("Staff recruited on capacities and motivation", "facilitator", "Organization and team/Staff recruitment and selection")),
        (
            Revision(
                comments=(("therapist", "New colleagues were chosen by the team itself", "New colleagues were chosen by the team together with the manager, not by the team alone."),),
                edits=(("New colleagues were chosen by the team itself after a day of joining the groups.",
                        "New colleagues were chosen by the team and the manager together, after a day of joining the groups."),),
                note="Selection of new colleagues corrected",
                how="Corrected as the therapist described",
                general=(("manager", "Agree. Nice to read it back like this."),),
            ),
        ),
        component_outcomes=(("PH", "positive"),),
    ),
    DemoNarrative(
        "Case G",
        """# Starting MBT in a hurry

The centre started its MBT programme within a few months of the decision. Willem Post, the manager, explains that a funding opportunity would otherwise have been lost. There was no implementation plan: two partial hospitalisation groups and two intensive outpatient groups opened almost at once.

The trainers who taught the team the method also gave advice on the organisation of the programme. At times their advice and the manager's decisions pointed in different directions, and for a while it was unclear who had the final say. Iris Schouten, the principal therapist, remembers team members asking her whom to follow.

The day groups admitted patients with serious self-harm, and crises followed each other. The team had no agreed protocol for acute situations, so every crisis was handled differently, often late in the day and with whoever happened to be present.

Under that pressure the team found it hard to keep the reflective, curious stance that MBT asks for. Sessions turned into crisis management, and gradually the team drifted away from the model. Most team members had little experience with this patient group, which made it harder to see what was happening.

The principal therapist tried to restore the focus by introducing short reflective meetings after each crisis. They helped when they took place, but on busy days they were the first thing to be dropped. The manager, for his part, recognises that he expected the trainers to solve organisational questions that were his to settle, and that this added to the confusion about roles.

In the second year the trainers and the manager sat down and agreed on a division of tasks, and from then on the roles were clearer. By that time, however, the habits of the day groups had formed, and changing them proved slow.

The burden on the team became heavy. Drop-out in the day groups was high, incidents were frequent and several formal complaints were filed. The outpatient groups, with a lower dose and more stable patients, did well and are valued by patients and staff.

Both respondents stress that the team worked extremely hard and that the problems should not be read as a lack of commitment. Several team members followed extra training on their own initiative, and the outpatient groups show what the same people could do under calmer conditions.

Both respondents therefore give a split verdict: positive for the outpatient groups, mixed for the day programme, and both attribute the difference largely to the hurried start.
""",
        "A hurried start without a plan, role confusion between management and trainers, no crisis protocol and an inexperienced team drifting from the model made the day programme heavy and unstable; the outpatient groups did well.",
        (("Hurried implementation without a plan", "barrier", "Organization/Implementation approach/Structured project-based implementation"),
         ("Temporary split between management and trainers; role confusion", "barrier", "Organization and team/Roles and leadership/Role clarity"),
         ("No protocol for crises", "barrier", "Team/Crisis management"),
         ("Difficulty keeping a reflective stance", "barrier", "Therapist/Mentalizing stance"),
         ("Team diverged from the model", "barrier", "Team/Coherent MBT framework"),
         ("Lack of experience", "barrier", "Therapist/Therapist competence and experience")),
        (
            Revision(
                comments=(("therapist", "no agreed protocol", "We did have a crisis protocol on paper from the general ward, it just did not fit MBT."),
                          ("manager", "funding opportunity", "The funding was for the first year only; that explains the haste better.")),
                edits=(("a funding opportunity would otherwise have been lost.", "a one-year funding opportunity would otherwise have been lost."),
                       ("The team had no agreed protocol for acute situations,",
                        "The team had no crisis protocol that fitted MBT, only the general ward's procedure,")),
                note="Funding and crisis protocol made more precise",
                how="Both corrections taken over",
            ),
        ),
        waiting_for="therapist",
        component_outcomes=(("PH", "mixed"), ("IOP", "positive")),
    ),
)

AUTHOR = "coder1"


def _apply(text: str, edits: tuple[tuple[str, str], ...], public: str) -> str:
    for old, new in edits:
        if old not in text:
            raise ValueError(f"demo revision for {public}: {old[:40]!r} not found")
        text = text.replace(old, new, 1)
    return text


def _principal(respondent) -> access.Principal:
    return access.Principal(access.RESPONDENT, respondent.id, f"respondent {respondent.id}", study_id=respondent.case.study_id)


def load_demo_membercheck(session: Session, study: Study) -> None:
    """DEMO_EXTENSIONS entry: reconstructions, versions, rounds and case summaries for every case."""
    for spec in NARRATIVES:
        case = studies.get_case(session, study, spec.public)
        by_role = {r.role: r for r in case.respondents}
        text = spec.text
        reconstruction_narrative.save_draft(session, case, text, spec.summary, AUTHOR)
        reconstruction_narrative.save_version(session, case, text, AUTHOR, "First full draft after coding both interviews", spec.summary)
        for revision in spec.revisions:
            reconstruction_membercheck.send_to_member_check(session, case, AUTHOR)
            asked = {role for role, _, _ in revision.comments}
            general = dict(revision.general)
            for role, respondent in by_role.items():
                parts = reconstruction_narrative.paragraphs(text)
                mine = {next(i for i, p in enumerate(parts) if anchor in p): comment
                        for r, anchor, comment in revision.comments if r == role}
                decision = "changes_needed" if role in asked else "agree"
                if role in revision.offline:
                    reconstruction_membercheck.record_offline_response(session, case, respondent, decision, general.get(role, ""), {i + 1: c for i, c in mine.items()})
                    continue
                principal = _principal(respondent)
                for index, comment in mine.items():
                    reconstruction_membercheck.save_comment(session, principal, index, comment)
                if role in general:
                    reconstruction_membercheck.save_general_comment(session, principal, general[role])
                reconstruction_membercheck.submit_decision(session, principal, decision)
            for comment in reconstruction_membercheck.dashboard(session, case)["open_comments"]:
                reconstruction_membercheck.mark_processed(session, case, comment["id"], revision.how, AUTHOR)
            text = _apply(text, revision.edits, spec.public)
            reconstruction_narrative.save_version(session, case, text, AUTHOR, revision.note, spec.summary)
        reconstruction_membercheck.send_to_member_check(session, case, AUTHOR)
        for role, respondent in by_role.items():
            if role != spec.waiting_for:
                reconstruction_membercheck.submit_decision(session, _principal(respondent), "agree")
        reconstruction_summary.save_case_summary(
            session, case, studies.programme_text(case), case.outcome_class, case.outcome_description,
            [{"label": label, "polarity": polarity, "code_ref": code} for label, polarity, code in spec.determinants],
            [{"component": c, "outcome_class": o} for c, o in spec.component_outcomes],
        )
